// Accounts linked to this one by the detection linkage, with why (the kinds of shared things) and how strongly,
// and the accounts it is related to in the input: each RELATED edge in either direction with the events the
// loader aggregated onto it (kind, direction, count, first and last day, summed amount).
MATCH (a:Account {account_id: $account})
CALL (a) {
  MATCH (a)-[l:LINKED]-(b:Account)
  RETURN b, l.weight AS weight, l.kind AS kind, l.strong AS strong, null AS relation
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
