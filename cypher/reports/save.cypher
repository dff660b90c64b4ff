// Record a written report and the runs it compares ((:Report)-[:COVERS {role: 'latest'|'since'}]->(:DetectionRun)).
MATCH (latest:DetectionRun {run_id: $run_id})
CREATE (report:Report {report_id: $report_id, created_at: datetime($created_at), run_id: $run_id,
                       since_run_id: $since_run_id, status: 'ok', formats: $formats, path: $path,
                       summary: $summary, trigger: $trigger})
CREATE (report)-[:COVERS {role: 'latest'}]->(latest)
WITH report
OPTIONAL MATCH (since:DetectionRun {run_id: $since_run_id})
FOREACH (run IN CASE WHEN since IS NULL THEN [] ELSE [since] END | CREATE (report)-[:COVERS {role: 'since'}]->(run))
RETURN report.report_id AS report_id
