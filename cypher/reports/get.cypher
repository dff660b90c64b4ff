// One report by id.
MATCH (report:Report {report_id: $report_id})
RETURN report {.*} AS report
