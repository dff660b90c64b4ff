// The linkage as one weighted undirected edge per account pair (for the in-process engine):
// weights of parallel LINKED edges add up; the pair is strong when any of its links is.
MATCH (a:Account)-[link:LINKED]->(b:Account)
WITH CASE WHEN a.account_id < b.account_id THEN [a.account_id, b.account_id] ELSE [b.account_id, a.account_id] END AS pair,
     link
RETURN pair[0] AS source, pair[1] AS target, sum(link.weight) AS weight, max(link.strong) AS strong
