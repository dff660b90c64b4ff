// ip_intel rows (merged per network by the loader): one node per network (kept so later loads can match new
// IPs), with its ASN and proxy network. Sources merge: a value a source does not have (MaxMind has no proxy
// type, IP2Proxy PX2 no ASN) keeps the known one; last_seen keeps the latest time.
UNWIND $rows AS row
MERGE (n:IPNetwork {cidr: row.network})
SET n.asn = coalesce(row.asn, n.asn), n.as_org = coalesce(row.as_org, n.as_org),
    n.proxy_type = coalesce(row.proxy_type, n.proxy_type), n.proxy_network = coalesce(row.proxy_network, n.proxy_network),
    n.feed_type = coalesce(row.feed_type, n.feed_type), n.provider = coalesce(row.provider, n.provider),
    n.country = coalesce(row.country, n.country), n.country_name = coalesce(row.country_name, n.country_name),
    n.region = coalesce(row.region, n.region), n.city = coalesce(row.city, n.city),
    n.isp = coalesce(row.isp, n.isp), n.domain = coalesce(row.domain, n.domain),
    n.usage_type = coalesce(row.usage_type, n.usage_type), n.threat = coalesce(row.threat, n.threat),
    n.fraud_score = coalesce(row.fraud_score, n.fraud_score),
    n.last_seen_days = coalesce(row.last_seen_days, n.last_seen_days),
    n.latitude = coalesce(row.latitude, n.latitude), n.longitude = coalesce(row.longitude, n.longitude),
    n.postal_code = coalesce(row.postal_code, n.postal_code)
WITH n, row, datetime(row.last_seen) AS seen
SET n.last_seen = CASE WHEN n.last_seen IS NULL OR seen > n.last_seen THEN seen ELSE n.last_seen END
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
