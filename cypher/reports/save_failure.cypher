// Record a report that could not be produced (the scheduler's failed attempts stay visible on the Reports page).
CREATE (report:Report {report_id: $report_id, created_at: datetime($created_at), status: 'failed',
                       error: $error, trigger: $trigger})
RETURN report.report_id AS report_id
