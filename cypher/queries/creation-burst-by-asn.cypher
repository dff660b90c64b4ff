// title: Accounts created in a burst from one ASN
// description: Hours in which at least N accounts were created whose sign-up IP sits in the same ASN.
// param: min_accounts = 10
// tags: creation, asn, timing
MATCH (a:Account)-[:HAS_IDENTIFIER {kind: 'ip'}]->(:IP)-[:IN_ASN]->(s:ASN)
WHERE a.created_at IS NOT NULL
WITH s, datetime.truncate('hour', a.created_at) AS hour, collect(DISTINCT a.account_id) AS accounts
WHERE size(accounts) >= $min_accounts
RETURN s.asn AS asn, s.name AS as_org, hour, size(accounts) AS created, accounts[..20] AS sample
ORDER BY created DESC
LIMIT 200
