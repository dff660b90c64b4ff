// What a campaign's members use that could be blocked, each with who uses it: the members (for the set
// cover) and the accounts outside every flagged campaign (the collateral of blocking it, with their requests).
// Kinds: hard identifiers (payment, device, api_key, phone), addresses (ip), ASNs, proxy networks and
// template families (PromptTemplate.family, its own id when detection has not set one).
MATCH (c:Campaign {campaign_id: $campaign})
CALL (c) {
  MATCH (c)-[:INCLUDES]->(m:Account)
  RETURN collect({account: m.account_id, requests: coalesce(m.requests, 0)}) AS members
}
CALL (c) {
  CALL (c) {
    MATCH (c)-[:INCLUDES]->(m:Account)-[:HAS_IDENTIFIER]->(x)
    WHERE x:PaymentMethod OR x:Device OR x:ApiKey OR x:Phone
    WITH c, x, collect(DISTINCT m.account_id) AS users
    OPTIONAL MATCH (o:Account)-[:HAS_IDENTIFIER]->(x)
    WHERE NOT (c)-[:INCLUDES]->(o) AND NOT EXISTS { (o)<-[:INCLUDES]-(:Campaign {flagged: true}) }
    WITH x, users, collect(DISTINCT o) AS outside
    RETURN CASE WHEN x:PaymentMethod THEN 'payment' WHEN x:Device THEN 'device' WHEN x:ApiKey THEN 'api_key'
                ELSE 'phone' END AS kind, x.value AS value, users, outside
  UNION
    MATCH (c)-[:INCLUDES]->(m:Account)-[:USED_IP|HAS_IDENTIFIER]->(ip:IP)
    WITH c, ip, collect(DISTINCT m.account_id) AS users
    OPTIONAL MATCH (o:Account)-[:USED_IP|HAS_IDENTIFIER]->(ip)
    WHERE NOT (c)-[:INCLUDES]->(o) AND NOT EXISTS { (o)<-[:INCLUDES]-(:Campaign {flagged: true}) }
    WITH ip, users, collect(DISTINCT o) AS outside
    RETURN 'ip' AS kind, ip.value AS value, users, outside
  UNION
    MATCH (c)-[:INCLUDES]->(m:Account)-[:USED_ASN]->(asn:ASN)
    WITH c, asn, collect(DISTINCT m.account_id) AS users
    OPTIONAL MATCH (o:Account)-[:USED_ASN]->(asn)
    WHERE NOT (c)-[:INCLUDES]->(o) AND NOT EXISTS { (o)<-[:INCLUDES]-(:Campaign {flagged: true}) }
    WITH asn, users, collect(DISTINCT o) AS outside
    RETURN 'asn' AS kind, toString(asn.asn) AS value, users, outside
  UNION
    MATCH (c)-[:INCLUDES]->(m:Account)-[:USED_NETWORK]->(n:ProxyNetwork)
    WITH c, n, collect(DISTINCT m.account_id) AS users
    OPTIONAL MATCH (o:Account)-[:USED_NETWORK]->(n)
    WHERE NOT (c)-[:INCLUDES]->(o) AND NOT EXISTS { (o)<-[:INCLUDES]-(:Campaign {flagged: true}) }
    WITH n, users, collect(DISTINCT o) AS outside
    RETURN 'proxy_network' AS kind, n.name AS value, users, outside
  UNION
    MATCH (c)-[:INCLUDES]->(m:Account)-[:SENT]->(t:PromptTemplate)
    WITH c, coalesce(t.family, t.template_id) AS family, collect(DISTINCT m.account_id) AS users
    // every template of the family, including wordings no member sent
    CALL (c, family) {
      // through the indexes (family, template id), not a scan of every template per family
      CALL (family) {
        MATCH (other:PromptTemplate {family: family})
        RETURN other
      UNION
        MATCH (other:PromptTemplate {template_id: family})
        WHERE other.family IS NULL
        RETURN other
      }
      OPTIONAL MATCH (o:Account)-[:SENT]->(other)
      WHERE NOT (c)-[:INCLUDES]->(o) AND NOT EXISTS { (o)<-[:INCLUDES]-(:Campaign {flagged: true}) }
      RETURN collect(DISTINCT o) AS outside
    }
    RETURN 'template' AS kind, family AS value, users, outside
  }
  RETURN collect({kind: kind, value: value, users: users, collateral_accounts: size(outside),
                      collateral_requests: reduce(n = 0, o IN outside | n + coalesce(o.requests, 0))}) AS candidates
}
RETURN members, candidates
