// Every account on one identifier of a typed kind (payment, ip, device, email, phone, api_key), newest use first.
MATCH (i:$($label) {value: $value})<-[r:HAS_IDENTIFIER|USED_IP]-(a:Account)
RETURN a.account_id AS account, a.org AS org, toString(a.created_at) AS created_at, type(r) AS via,
       coalesce(r.count, 0) AS uses, toString(r.first_seen) AS first_seen, toString(r.last_seen) AS last_seen,
       a.requests AS requests
ORDER BY r.last_seen DESC, account
SKIP $skip LIMIT $limit
