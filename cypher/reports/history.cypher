// Size and score of campaigns in every run that found them, oldest first (the growth chart).
MATCH (r:DetectionRun)-[f:FOUND]->(c:Campaign)
WHERE c.campaign_id IN $campaign_ids
RETURN r.run_id AS run_id, r.started_at AS started_at, c.campaign_id AS campaign_id, f.size AS size, f.score AS score
ORDER BY started_at, campaign_id
