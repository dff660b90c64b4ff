// Project the linkage inside groups of accounts as one GDS graph $name (community refinement,
// graph/detect/communities.py): one undirected relationship per linked pair of members of the same group,
// its summed LINKED weight divided by the group's total ($total_of: group number as text -> total weight),
// so every group weighs 1 and Leiden with gamma = number of groups optimises each group's own modularity.
// $group_of: account id -> group number (the groups are disjoint).
UNWIND keys($group_of) AS id
MATCH (a:Account {account_id: id})-[link:LINKED]->(b:Account)
WITH $group_of[id] AS grp, a, b, link
WHERE $group_of[b.account_id] = grp
WITH grp, CASE WHEN a.account_id < b.account_id THEN [a, b] ELSE [b, a] END AS pair, sum(link.weight) AS weight
WITH gds.graph.project($name, pair[0], pair[1],
                       {relationshipProperties: {weight: weight / $total_of[toString(grp)]}},
                       {undirectedRelationshipTypes: ['*']}) AS graph
RETURN graph.nodeCount AS nodes, graph.relationshipCount AS relationships
