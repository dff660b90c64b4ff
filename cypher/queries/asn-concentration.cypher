// title: ASNs carrying the most accounts
// description: Autonomous systems ranked by the accounts whose traffic they carried, with the proxy share; datacenter ASNs at the top deserve a look.
// param: min_accounts = 20
// tags: asn, overview
MATCH (a:Account)-[u:USED_ASN]->(s:ASN)
WITH s, count(a) AS accounts, sum(u.count) AS requests
WHERE accounts >= $min_accounts
OPTIONAL MATCH (s)<-[:IN_ASN]-(ip:IP)
WITH s, accounts, requests, count(ip) AS ips, sum(CASE WHEN coalesce(ip.proxy_type, 'none') <> 'none' THEN 1 ELSE 0 END) AS proxied
RETURN s.asn AS asn, s.name AS as_org, accounts, requests, ips,
       CASE WHEN ips = 0 THEN null ELSE round(toFloat(proxied) / ips, 3) END AS proxied_ip_share
ORDER BY accounts DESC
LIMIT 100
