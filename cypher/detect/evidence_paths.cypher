// For each target account: the shortest chain of linkage edges (or shared addresses) from any seed, and for every hop what the two
// accounts share (identifiers first, then proxy networks, then templates; at most 3), plus relations.
// $targets, $seeds: account ids.
UNWIND $targets AS target_id
MATCH (t:Account {account_id: target_id})
CALL (t) {
  UNWIND $seeds AS seed_id
  MATCH (s:Account {account_id: seed_id})
  WHERE s <> t
  // stored links, or an address both used (weak links are not stored): at most 4 accounts apart
  MATCH p = shortestPath((s)-[:LINKED|USED_IP*..8]-(t))
  WITH p, [n IN nodes(p) WHERE n:Account] AS hops
  WHERE size(hops) <= 5
  RETURN hops ORDER BY size(hops) LIMIT 1
}
WITH target_id, hops
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
