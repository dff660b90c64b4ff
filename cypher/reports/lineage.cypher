// What the given runs recorded: one row per FOUND (with the run's own size and score) or ENDED edge.
UNWIND $run_ids AS run_id
MATCH (r:DetectionRun {run_id: run_id})-[e:FOUND|ENDED]->(c:Campaign)
RETURN r.run_id AS run_id, r.started_at AS started_at, c.campaign_id AS campaign_id,
       CASE type(e) WHEN 'ENDED' THEN 'ended' ELSE e.event END AS event,
       coalesce(e.related, []) AS related, e.score AS score, e.size AS size
ORDER BY started_at, campaign_id
