// Requests per UTC day over all members of a campaign (the activity timeline).
MATCH (:Campaign {campaign_id: $campaign})-[:INCLUDES]->(a:Account)
WHERE a.activity_days IS NOT NULL
UNWIND range(0, size(a.activity_days) - 1) AS i
RETURN a.activity_days[i] AS day, sum(a.activity_counts[i]) AS requests
ORDER BY day
