// The newest completed detection run: the key of the web app's per-run cache (a run still being written has
// no completed_at yet, so pages keep showing the previous run until it is done).
MATCH (run:DetectionRun) WHERE run.completed_at IS NOT NULL
RETURN run.run_id AS run_id, toString(run.completed_at) AS completed_at
ORDER BY run.completed_at DESC
LIMIT 1
