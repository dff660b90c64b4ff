// What the scheduler knows about one of its runs: when it started and finished, how each delivery channel
// fared ("webhook: failed (…)"), how many input rows the load rejected.
MATCH (r:Report {report_id: $report_id})
SET r.started_at = datetime($started_at), r.finished_at = datetime(), r.deliveries = $deliveries,
    r.rejected_rows = $rejected_rows
