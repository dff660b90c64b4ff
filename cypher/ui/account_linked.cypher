// Accounts linked to this one by the detection linkage, with why (the kinds of shared things) and how strongly.
MATCH (a:Account {account_id: $account})-[l:LINKED]-(b:Account)
WITH b, sum(l.weight) AS weight, collect(DISTINCT l.kind) AS why, max(l.strong) AS strong
RETURN b.account_id AS account, b.org AS org, round(weight, 4) AS weight, why, strong = 1.0 AS strong
ORDER BY weight DESC
LIMIT $limit
