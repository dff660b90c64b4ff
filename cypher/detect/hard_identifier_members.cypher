// The memberships of hard identifiers (payment method, device, phone, e-mail, API key, and other kinds named
// in $kinds), for the per-account risk score (graph/detect/risk.py). Few rows of long parallel lists (one per
// kind and bucket of identifiers: $buckets keeps each list to tens of thousands of entries): a driver spends far
// more on a row than on a list entry, so one row per identifier took 15 s for 92,000 identifiers.
// Window: when $since is set, only uses last seen at or after it count (uses without a last_seen count).
MATCH (a:Account)-[r:HAS_IDENTIFIER]->(i:PaymentMethod|Device|Phone|Email|ApiKey|Identifier)
WHERE $since IS NULL OR r.last_seen IS NULL OR r.last_seen >= datetime($since)
WITH a, i, CASE WHEN i:PaymentMethod THEN 'payment' WHEN i:Device THEN 'device' WHEN i:Phone THEN 'phone'
                WHEN i:Email THEN 'email' WHEN i:ApiKey THEN 'api_key' ELSE i.kind END AS kind
WHERE kind IN $kinds
RETURN kind, id(i) % $buckets AS bucket, collect(a.account_id) AS accounts, collect(id(i)) AS identifiers
