// title: Footprint of an organisation
// description: Accounts of one organisation with their shared cards and IPs — the check for an honest company (one card, one NAT, diverse usage).
// param: org = "Lumen Analytics"
// tags: organisation, look-alike
MATCH (a:Account {org: $org})
OPTIONAL MATCH (a)-[:HAS_IDENTIFIER]->(pm:PaymentMethod)
OPTIONAL MATCH (a)-[:USED_IP]->(ip:IP)
RETURN count(DISTINCT a) AS accounts, count(DISTINCT pm) AS payment_methods, count(DISTINCT ip) AS ips,
       collect(DISTINCT ip.as_org)[..5] AS as_orgs, sum(a.requests) AS requests
