// The linkage inside groups of accounts (community refinement, graph/detect/communities.py): one row per
// linked pair of members of the same group, the weights of its LINKED edges summed.
// $group_of: account id -> group number (the groups are disjoint).
UNWIND keys($group_of) AS id
MATCH (a:Account {account_id: id})-[link:LINKED]->(b:Account)
WITH $group_of[id] AS grp, a, b, link
WHERE $group_of[b.account_id] = grp
WITH grp, CASE WHEN a.account_id < b.account_id THEN [a, b] ELSE [b, a] END AS pair, sum(link.weight) AS weight
RETURN grp AS group, pair[0].account_id AS source, pair[1].account_id AS target, weight
