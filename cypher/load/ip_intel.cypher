// Intel of IP nodes: properties plus IN_ASN / EXIT_OF edges; edges to an ASN or network the IP no longer matches are removed.
UNWIND $rows AS row
MATCH (ip:IP {value: row.ip})
SET ip.network = row.network, ip.asn = row.asn, ip.as_org = row.as_org,
    ip.proxy_type = row.proxy_type, ip.proxy_network = row.proxy_network
WITH ip, row
CALL (ip, row) {
  OPTIONAL MATCH (ip)-[stale:IN_ASN]->(a:ASN)
  WHERE row.asn IS NULL OR a.asn <> row.asn
  DELETE stale
}
CALL (ip, row) {
  OPTIONAL MATCH (ip)-[stale:EXIT_OF]->(p:ProxyNetwork)
  WHERE row.proxy_network IS NULL OR p.name <> row.proxy_network
  DELETE stale
}
CALL (ip, row) {
  WITH * WHERE row.asn IS NOT NULL
  MERGE (a:ASN {asn: row.asn})
  MERGE (ip)-[:IN_ASN]->(a)
}
CALL (ip, row) {
  WITH * WHERE row.proxy_network IS NOT NULL
  MERGE (p:ProxyNetwork {name: row.proxy_network})
  MERGE (ip)-[:EXIT_OF]->(p)
}
