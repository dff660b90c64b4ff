// What an account uses — identifiers, IPs, proxy networks, ASNs, templates — and how many accounts share each.
MATCH (a:Account {account_id: $account})-[r:HAS_IDENTIFIER|USED_IP|USED_NETWORK|USED_ASN|SENT]->(i)
CALL (i) {
  MATCH (i)<-[:HAS_IDENTIFIER|USED_IP|USED_NETWORK|USED_ASN|SENT]-(x:Account)
  RETURN count(DISTINCT x) AS accounts
}
RETURN CASE WHEN i:PaymentMethod THEN 'payment' WHEN i:IP THEN 'ip' WHEN i:Device THEN 'device'
            WHEN i:Email THEN 'email' WHEN i:Phone THEN 'phone' WHEN i:ApiKey THEN 'api_key'
            WHEN i:ProxyNetwork THEN 'proxy_network' WHEN i:ASN THEN 'asn' WHEN i:PromptTemplate THEN 'template'
            ELSE i.kind END AS kind,
       toString(coalesce(i.value, i.name, i.asn, i.template_id)) AS value, type(r) AS via,
       coalesce(r.count, r.n) AS uses, toString(r.first_seen) AS first_seen, toString(r.last_seen) AS last_seen,
       i.proxy_type AS proxy_type, accounts AS accounts_sharing
ORDER BY accounts_sharing DESC, kind, value
LIMIT $limit
