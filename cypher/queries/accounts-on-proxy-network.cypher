// title: Accounts that used a proxy network
// description: Every account whose traffic left through the named proxy network, with how much.
// param: network = "PeerGate Proxies"
// tags: proxy, pivot
MATCH (a:Account)-[u:USED_NETWORK]->(:ProxyNetwork {name: $network})
RETURN a.account_id AS account, a.org AS org, u.count AS requests_via_network, u.distinct_ips AS distinct_ips,
       a.requests AS total_requests, u.first_seen AS first_seen, u.last_seen AS last_seen
ORDER BY requests_via_network DESC
LIMIT 1000
