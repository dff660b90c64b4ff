// ip_intel rows: one node per network (kept so later loads can match new IPs), with its ASN and proxy network.
// Sources merge: a value a source does not have (MaxMind has no proxy type, IP2Proxy PX2 no ASN) keeps the known one.
UNWIND $rows AS row
MERGE (n:IPNetwork {cidr: row.network})
SET n.asn = coalesce(row.asn, n.asn), n.as_org = coalesce(row.as_org, n.as_org),
    n.proxy_type = coalesce(row.proxy_type, n.proxy_type), n.proxy_network = coalesce(row.proxy_network, n.proxy_network)
WITH n, row
CALL (n, row) {
  WITH * WHERE row.asn IS NOT NULL
  MERGE (a:ASN {asn: row.asn})
  SET a.name = row.as_org_for_asn
}
CALL (n, row) {
  WITH * WHERE row.proxy_network IS NOT NULL
  MERGE (p:ProxyNetwork {name: row.proxy_network})
  SET p.proxy_type = row.proxy_type_for_network
}
