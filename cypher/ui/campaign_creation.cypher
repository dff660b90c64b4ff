// Member accounts created per day (the campaign's creation timeline).
MATCH (:Campaign {campaign_id: $campaign})-[:INCLUDES]->(a:Account)
WHERE a.created_at IS NOT NULL
RETURN toString(date(a.created_at)) AS day, count(*) AS accounts
ORDER BY day
