// Search: an account id or e-mail (exact, indexed), an organisation (case-insensitive substring: a scan of
// accounts), or an identifier value (card fingerprint, IP, device, …; exact, indexed) or IPs of a CIDR ($ips).
CALL () {
  MATCH (a:Account {account_id: $q}) RETURN 'account' AS kind, a.account_id AS value, coalesce(a.org, '') AS detail
  UNION
  MATCH (a:Account) WHERE a.email IN [$q, $q_lower]
  RETURN 'account' AS kind, a.account_id AS value, coalesce(a.org, '') AS detail
  UNION
  MATCH (a:Account) WHERE size($q_lower) >= 2 AND toLower(a.org) CONTAINS $q_lower
  RETURN 'account' AS kind, a.account_id AS value, a.org AS detail
  UNION
  MATCH (i:PaymentMethod {value: $q}) RETURN 'payment' AS kind, i.value AS value, '' AS detail
  UNION
  MATCH (i:IP) WHERE i.value IN [$q] + $ips RETURN 'ip' AS kind, i.value AS value, coalesce(i.proxy_type, '') AS detail
  UNION
  MATCH (i:Device {value: $q}) RETURN 'device' AS kind, i.value AS value, '' AS detail
  UNION
  MATCH (i:Email) WHERE i.value IN [$q, $q_lower] RETURN 'email' AS kind, i.value AS value, '' AS detail
  UNION
  MATCH (i:Phone {value: $q}) RETURN 'phone' AS kind, i.value AS value, '' AS detail
  UNION
  MATCH (i:ApiKey {value: $q}) RETURN 'api_key' AS kind, i.value AS value, '' AS detail
  UNION
  MATCH (i:Identifier {value: $q}) RETURN i.kind AS kind, i.value AS value, '' AS detail
  UNION
  MATCH (p:ProxyNetwork {name: $q}) RETURN 'proxy_network' AS kind, p.name AS value, coalesce(p.proxy_type, '') AS detail
}
RETURN kind, value, detail
ORDER BY kind, value
LIMIT $limit
