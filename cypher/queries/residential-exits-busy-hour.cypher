// title: Residential-proxy exit IPs used by more than N accounts in one hour
// description: Exit IPs marked residential by IP intelligence whose use by many accounts starts in the same hour — rotation through one proxy pool.
// param: min_accounts = 2
// tags: proxy, ip, timing
MATCH (a:Account)-[u:USED_IP]->(ip:IP {proxy_type: 'residential'})
WITH ip, datetime.truncate('hour', u.first_seen) AS hour, collect(DISTINCT a.account_id) AS accounts
WHERE size(accounts) > $min_accounts
RETURN ip.value AS ip, ip.proxy_network AS proxy_network, hour, size(accounts) AS account_count, accounts[..20] AS sample
ORDER BY account_count DESC
LIMIT 200
