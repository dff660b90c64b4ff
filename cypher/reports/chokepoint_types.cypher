// Proxy type of the addresses and proxy networks a chokepoint plan names: they are exported under the same
// rules as the other indicators (graph/reports/stix.py: datacenter/hosting addresses, not VPN networks).
CALL () {
  UNWIND $ips AS value
  MATCH (ip:IP {value: value})
  RETURN 'ip' AS kind, ip.value AS value, ip.proxy_type AS proxy_type
UNION
  UNWIND $networks AS name
  MATCH (n:ProxyNetwork {name: name})
  RETURN 'proxy_network' AS kind, n.name AS value, n.proxy_type AS proxy_type
}
RETURN kind, value, proxy_type
