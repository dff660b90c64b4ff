// Every account whose traffic left through a proxy network.
MATCH (:ProxyNetwork {name: $value})<-[r:USED_NETWORK]-(a:Account)
RETURN a.account_id AS account, a.org AS org, toString(a.created_at) AS created_at, type(r) AS via,
       r.count AS uses, toString(r.first_seen) AS first_seen, toString(r.last_seen) AS last_seen, a.requests AS requests
ORDER BY uses DESC, account
SKIP $skip LIMIT $limit
