// Requests per UTC day and model over all members of a campaign (the timeline's model mix), from the loader's
// per-account USED_MODEL edges (days and counts are parallel lists). Without such edges it returns no rows.
MATCH (:Campaign {campaign_id: $campaign})-[:INCLUDES]->(a:Account)-[u:USED_MODEL]->(m:Model)
WHERE u.days IS NOT NULL AND u.counts IS NOT NULL
UNWIND range(0, size(u.days) - 1) AS i
WITH u.days[i] AS day, m.name AS model, sum(u.counts[i]) AS requests
WHERE requests > 0
RETURN day, model, requests
ORDER BY day, model
