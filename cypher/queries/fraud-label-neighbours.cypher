// title: Accounts sharing an identifier with a labelled fraud account
// description: Unlabelled accounts one shared identifier away from accounts labelled fraud, ranked by how many fraud accounts they touch.
// tags: labels, seeds, pivot
MATCH (f:Account {label: 'fraud'})-[:HAS_IDENTIFIER]->(i)<-[:HAS_IDENTIFIER]-(a:Account)
WHERE a.label IS NULL
WITH a, count(DISTINCT f) AS fraud_neighbours, collect(DISTINCT labels(i)[0] + ':' + coalesce(i.value, '')) AS via
RETURN a.account_id AS account, a.org AS org, fraud_neighbours, via[..10] AS shared
ORDER BY fraud_neighbours DESC
LIMIT 500
