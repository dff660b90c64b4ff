// title: High-volume accounts active around the clock
// description: Accounts with many requests spread evenly over the day (high hour-of-day entropy). CI pipelines and agent products look like this too: volume alone is not abuse — check what they share.
// param: min_requests = 5000
// param: min_entropy = 4.0
// tags: behaviour, look-alike
MATCH (a:Account)
WHERE a.requests >= $min_requests AND a.hour_entropy >= $min_entropy
OPTIONAL MATCH (a)-[:HAS_IDENTIFIER]->(pm:PaymentMethod)<-[:HAS_IDENTIFIER]-(other:Account)
RETURN a.account_id AS account, a.org AS org, a.requests AS requests, round(a.hour_entropy, 2) AS hour_entropy,
       a.capabilities AS capabilities, count(DISTINCT other) AS accounts_sharing_a_card
ORDER BY requests DESC
LIMIT 300
