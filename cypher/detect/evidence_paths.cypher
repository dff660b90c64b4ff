// For each target account: the shortest chain of linkage edges from any seed, and for every hop what the two
// accounts share (identifiers first, then proxy networks, then templates; at most 3), plus relations.
// $targets, $seeds: account ids.
UNWIND $targets AS target_id
MATCH (t:Account {account_id: target_id})
CALL (t) {
  UNWIND $seeds AS seed_id
  MATCH (s:Account {account_id: seed_id})
  WHERE s <> t
  MATCH p = shortestPath((s)-[:LINKED*..4]-(t))
  RETURN p ORDER BY length(p) LIMIT 1
}
WITH target_id, nodes(p) AS hops
UNWIND range(0, size(hops) - 2) AS i
WITH target_id, i, hops[i] AS x, hops[i + 1] AS y
CALL (x, y) {
  MATCH (x)-[:HAS_IDENTIFIER|USED_IP|USED_NETWORK|SENT]->(thing)<-[:HAS_IDENTIFIER|USED_IP|USED_NETWORK|SENT]-(y)
  WITH DISTINCT thing
  ORDER BY CASE WHEN thing:PromptTemplate THEN 2 WHEN thing:ProxyNetwork THEN 1 ELSE 0 END
  LIMIT 3
  RETURN collect(labels(thing)[0] + ' ' + coalesce(thing.value, thing.name, thing.template_id)) AS things
}
CALL (x, y) {
  OPTIONAL MATCH (x)-[r:RELATED]-(y)
  RETURN collect('relation ' + r.kind) AS relations
}
WITH target_id, i, {from: x.account_id, to: y.account_id, shared: things + relations} AS hop
ORDER BY target_id, i
RETURN target_id AS account_id, collect(hop) AS path
