// The weaker evidence that can tie two clusters to one operator (graph/act/related.py): per cluster, the
// template families and proxy networks at least $quorum of its members use, the mailboxes (Email
// identifiers) its members declare, and its summed hour-of-day profile. $clusters: [{cluster, members}].
UNWIND $clusters AS c
CALL (c) {
  UNWIND c.members AS account_id
  MATCH (a:Account {account_id: account_id})
  RETURN count(a) AS size,
         reduce(total = [h IN range(0, 23) | 0.0], p IN collect(a.hour_profile) |
                [h IN range(0, 23) | total[h] + coalesce(p[h], 0)]) AS hours
}
CALL (c, size) {
  UNWIND c.members AS account_id
  MATCH (a:Account {account_id: account_id})-[:SENT]->(t:PromptTemplate)
  WITH coalesce(t.family, t.template_id) AS family, count(DISTINCT a) AS users
  WHERE users >= $quorum * size
  RETURN collect(family) AS families
}
CALL (c, size) {
  UNWIND c.members AS account_id
  MATCH (a:Account {account_id: account_id})-[:USED_NETWORK]->(n:ProxyNetwork)
  WITH n, count(DISTINCT a) AS users
  WHERE users >= $quorum * size
  RETURN collect(n.name) AS networks
}
CALL (c) {
  UNWIND c.members AS account_id
  MATCH (:Account {account_id: account_id})-[:HAS_IDENTIFIER]->(e:Email)
  RETURN collect(DISTINCT e.value) AS mailboxes
}
RETURN c.cluster AS cluster, size, hours, families, networks, mailboxes
