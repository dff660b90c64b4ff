// Every account on one identifier of a typed kind (payment, ip, device, email, phone, api_key), newest use first.
// One branch per label so that each uses its uniqueness index (a dynamic label would scan every node).
CALL () {
  MATCH (i:PaymentMethod {value: $value}) WHERE $label = 'PaymentMethod' RETURN i
  UNION
  MATCH (i:IP {value: $value}) WHERE $label = 'IP' RETURN i
  UNION
  MATCH (i:Device {value: $value}) WHERE $label = 'Device' RETURN i
  UNION
  MATCH (i:Email {value: $value}) WHERE $label = 'Email' RETURN i
  UNION
  MATCH (i:Phone {value: $value}) WHERE $label = 'Phone' RETURN i
  UNION
  MATCH (i:ApiKey {value: $value}) WHERE $label = 'ApiKey' RETURN i
}
MATCH (i)<-[r:HAS_IDENTIFIER|USED_IP]-(a:Account)
RETURN a.account_id AS account, a.org AS org, toString(a.created_at) AS created_at, type(r) AS via,
       coalesce(r.count, 0) AS uses, toString(r.first_seen) AS first_seen, toString(r.last_seen) AS last_seen,
       a.requests AS requests
ORDER BY r.last_seen DESC, account
SKIP $skip LIMIT $limit
