// The model fitted on labels: its description on the run (JSON; null = the graph holds no labels) and each tracked
// campaign's out-of-fold probability (null without a fitted model, which also clears an earlier run's value).
MATCH (run:DetectionRun {run_id: $run_id})
SET run.learned_model = $model
WITH run
UNWIND $campaigns AS c
MATCH (campaign:Campaign {campaign_id: c.campaign_id})
SET campaign.learned_probability = c.probability
RETURN count(campaign) AS campaigns
