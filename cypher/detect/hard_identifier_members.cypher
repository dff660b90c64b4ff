// The members of every hard identifier (payment method, device, phone, e-mail, API key, and other kinds named
// in $kinds), for the per-account risk score (graph/detect/risk.py): one row per identifier with the accounts
// that use it. Identifier-centric, so the whole pass reads each HAS_IDENTIFIER relationship once.
// Window: when $since is set, only uses last seen at or after it count (uses without a last_seen count).
MATCH (i:PaymentMethod|Device|Phone|Email|ApiKey|Identifier)
WITH i, CASE WHEN i:PaymentMethod THEN 'payment' WHEN i:Device THEN 'device' WHEN i:Phone THEN 'phone'
             WHEN i:Email THEN 'email' WHEN i:ApiKey THEN 'api_key' ELSE i.kind END AS kind
WHERE kind IN $kinds
CALL (i) {
  MATCH (a:Account)-[r:HAS_IDENTIFIER]->(i)
  WHERE $since IS NULL OR r.last_seen IS NULL OR r.last_seen >= datetime($since)
  RETURN collect(a.account_id) AS members
}
WITH kind, members WHERE size(members) > 0
RETURN kind, members
