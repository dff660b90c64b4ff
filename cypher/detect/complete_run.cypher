// The last statement of a detection run: its campaigns, memberships and account scores are all written.
// Readers that must not see a run half-written (the web app's per-run cache) look for completed_at.
MATCH (run:DetectionRun {run_id: $run_id})
SET run.completed_at = datetime()
