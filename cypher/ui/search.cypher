// Search: an account id, e-mail or organisation, or an identifier value (card fingerprint, IP, device, …).
CALL () {
  MATCH (a:Account) WHERE a.account_id = $q OR toLower(a.email) = toLower($q)
  RETURN 'account' AS kind, a.account_id AS value, coalesce(a.org, '') AS detail
  UNION
  MATCH (a:Account) WHERE $q_lower <> '' AND toLower(a.org) CONTAINS $q_lower
  RETURN 'account' AS kind, a.account_id AS value, a.org AS detail
  UNION
  MATCH (i:PaymentMethod|IP|Device|Email|Phone|ApiKey|Identifier) WHERE i.value = $q OR i.value IN $ips
  RETURN CASE WHEN i:PaymentMethod THEN 'payment' WHEN i:IP THEN 'ip' WHEN i:Device THEN 'device'
              WHEN i:Email THEN 'email' WHEN i:Phone THEN 'phone' WHEN i:ApiKey THEN 'api_key' ELSE i.kind END AS kind,
         i.value AS value, coalesce(i.proxy_type, '') AS detail
  UNION
  MATCH (p:ProxyNetwork) WHERE toLower(p.name) = $q_lower
  RETURN 'proxy_network' AS kind, p.name AS value, coalesce(p.proxy_type, '') AS detail
}
RETURN kind, value, detail
ORDER BY kind, value
LIMIT $limit
