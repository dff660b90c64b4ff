// What a campaign's members use that a partner's indicators can name: proxy networks, payment methods and
// template ids (hashed in Python before matching), addresses, ASNs and e-mail addresses (their domains).
MATCH (c:Campaign {campaign_id: $campaign})
CALL (c) {
  MATCH (c)-[:INCLUDES]->(:Account)-[:USED_NETWORK]->(n:ProxyNetwork)
  RETURN collect(DISTINCT n.name) AS networks
}
CALL (c) {
  MATCH (c)-[:INCLUDES]->(:Account)-[:HAS_IDENTIFIER]->(p:PaymentMethod)
  RETURN collect(DISTINCT p.value) AS payments
}
CALL (c) {
  MATCH (c)-[:INCLUDES]->(:Account)-[:SENT]->(t:PromptTemplate)
  RETURN collect(DISTINCT t.template_id) AS templates
}
CALL (c) {
  MATCH (c)-[:INCLUDES]->(:Account)-[:USED_IP|HAS_IDENTIFIER]->(ip:IP)
  RETURN collect(DISTINCT ip.value) AS ips
}
CALL (c) {
  MATCH (c)-[:INCLUDES]->(:Account)-[:USED_ASN]->(asn:ASN)
  RETURN collect(DISTINCT asn.asn) AS asns
}
CALL (c) {
  MATCH (c)-[:INCLUDES]->(a:Account)
  OPTIONAL MATCH (a)-[:HAS_IDENTIFIER]->(e:Email)
  RETURN collect(DISTINCT a.email) + collect(DISTINCT e.value) AS mails
}
RETURN networks, payments, templates, ips, asns, mails
