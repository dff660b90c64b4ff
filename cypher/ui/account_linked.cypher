// Accounts linked to this one by the detection linkage (stored links and the weak ones computed here), with why
// (the kinds of shared things) and how strongly,
// and the accounts it is related to in the input: each RELATED edge in either direction with the events the
// loader aggregated onto it (kind, direction, count, first and last day, summed amount).
MATCH (a:Account {account_id: $account})
CALL (a) {
  MATCH (a)-[l:LINKED]-(b:Account)
  RETURN b, l.weight AS weight, l.kind AS kind, l.strong AS strong, null AS relation
  UNION ALL
  // weak links are not stored: the account's addresses and VPN networks expanded exactly as detection does
  // (detect/_link_pairs with the parameters of graph.detect.linkage.weak_links), keeping this account's pairs
  CALL (a) {
    MATCH (a)-[:USED_IP|HAS_IDENTIFIER]->(i:IP)
    WITH DISTINCT i
    RETURN 'identifier' AS source, CASE WHEN i.proxy_type IN $shared_exit_types THEN 'shared_exit' ELSE 'ip' END
           AS link_kind, i AS thing, null AS templates, null AS relation
    UNION ALL
    MATCH (a)-[:USED_NETWORK]->(p:ProxyNetwork {proxy_type: 'vpn'})
    RETURN 'network' AS source, 'vpn_network' AS link_kind, p AS thing, null AS templates, null AS relation
  }
  WITH a, source, link_kind, thing, templates, relation WHERE link_kind IN $weak_kinds
  CALL (source, link_kind, thing, templates, relation) {
// include: detect/_link_pairs
    RETURN one, other, weight, strong, kind
  }
  WITH a, one, other, weight, strong, kind, relation WHERE one = a OR other = a
  RETURN CASE WHEN one = a THEN other ELSE one END AS b, weight, kind, strong, relation
  UNION ALL
  MATCH (a)-[r:RELATED]-(b:Account)
  WHERE b <> a
  RETURN b, 0.0 AS weight, null AS kind, null AS strong,
         {kind: r.kind, direction: CASE WHEN startNode(r) = a THEN 'out' ELSE 'in' END, count: r.count,
          first_seen: toString(date(r.first_seen)), last_seen: toString(date(r.last_seen)), amount: r.amount} AS relation
}
WITH b, sum(weight) AS weight, collect(DISTINCT kind) AS why, max(strong) AS strong, collect(relation) AS relations
RETURN b.account_id AS account, b.org AS org, round(weight, 4) AS weight, why, coalesce(strong, 0.0) = 1.0 AS strong,
       relations
ORDER BY weight DESC, size(relations) DESC, account
LIMIT $limit
