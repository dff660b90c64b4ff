// Requests per UTC day over the current members of each campaign (the activity timeline).
UNWIND $campaign_ids AS campaign_id
MATCH (:Campaign {campaign_id: campaign_id})-[:INCLUDES]->(a:Account)
WHERE a.activity_days IS NOT NULL
UNWIND range(0, size(a.activity_days) - 1) AS i
WITH campaign_id, a.activity_days[i] AS day, sum(a.activity_counts[i]) AS requests
RETURN campaign_id, day, requests
ORDER BY campaign_id, day
