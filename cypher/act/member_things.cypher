// What the accounts $members use that a partner's indicators can name (as act/campaign_things.cypher, for a
// member list instead of a stored campaign: detection reads it before the run's campaigns are persisted).
CALL () {
  UNWIND $members AS id
  MATCH (:Account {account_id: id})-[:USED_NETWORK]->(n:ProxyNetwork)
  RETURN collect(DISTINCT n.name) AS networks
}
CALL () {
  UNWIND $members AS id
  MATCH (:Account {account_id: id})-[:HAS_IDENTIFIER]->(p:PaymentMethod)
  RETURN collect(DISTINCT p.value) AS payments
}
CALL () {
  UNWIND $members AS id
  MATCH (:Account {account_id: id})-[:SENT]->(t:PromptTemplate)
  RETURN collect(DISTINCT t.template_id) AS templates
}
CALL () {
  UNWIND $members AS id
  MATCH (:Account {account_id: id})-[:USED_IP|HAS_IDENTIFIER]->(ip:IP)
  RETURN collect(DISTINCT ip.value) AS ips
}
CALL () {
  UNWIND $members AS id
  MATCH (:Account {account_id: id})-[:USED_ASN]->(asn:ASN)
  RETURN collect(DISTINCT asn.asn) AS asns
}
CALL () {
  UNWIND $members AS id
  MATCH (a:Account {account_id: id})
  OPTIONAL MATCH (a)-[:HAS_IDENTIFIER]->(e:Email)
  RETURN collect(DISTINCT a.email) + collect(DISTINCT e.value) AS mails
}
RETURN networks, payments, templates, ips, asns, mails
