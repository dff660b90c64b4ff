// What members of each flagged campaign share, for STIX indicators: one row per (campaign, kind, value) with
// the number of members using it. Only IPs of $ip_types (datacenter, hosting) and proxy networks of
// $network_types are returned; payment and template values go to Python, which exports only their SHA-256.
UNWIND $campaign_ids AS campaign_id
MATCH (c:Campaign {campaign_id: campaign_id})
CALL (c) {
  MATCH (c)-[:INCLUDES]->(a:Account)-[:USED_IP|HAS_IDENTIFIER]->(ip:IP)
  WHERE ip.proxy_type IN $ip_types
  WITH ip, count(DISTINCT a) AS members
  WHERE members >= $min_members
  RETURN 'ip' AS kind, ip.value AS value, members, ip.proxy_type AS proxy_type, ip.network AS network, ip.asn AS asn
UNION
  MATCH (c)-[:INCLUDES]->(a:Account)-[:USED_NETWORK]->(n:ProxyNetwork)
  WHERE n.proxy_type IN $network_types
  WITH n, count(DISTINCT a) AS members
  WHERE members >= $min_members
  RETURN 'proxy_network' AS kind, n.name AS value, members, n.proxy_type AS proxy_type, null AS network, null AS asn
UNION
  MATCH (c)-[:INCLUDES]->(a:Account)-[:HAS_IDENTIFIER]->(p:PaymentMethod)
  WITH p, count(DISTINCT a) AS members
  WHERE members >= $min_members
  RETURN 'payment' AS kind, p.value AS value, members, null AS proxy_type, null AS network, null AS asn
UNION
  // a template is the group's when at least a quarter of the members send it (as in scoring)
  MATCH (c)-[:INCLUDES]->(a:Account)-[:SENT]->(t:PromptTemplate)
  WITH t, count(DISTINCT a) AS members
  WHERE members >= $min_members AND members >= $template_quorum * c.size
  RETURN 'template' AS kind, t.template_id AS value, members, null AS proxy_type, null AS network, null AS asn
}
RETURN campaign_id, kind, value, members, proxy_type, network, asn
ORDER BY campaign_id, kind, value
