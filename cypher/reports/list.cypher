// The most recent reports, newest first.
MATCH (report:Report)
RETURN report {.*} AS report
ORDER BY report.created_at DESC, report.report_id DESC
LIMIT $limit
