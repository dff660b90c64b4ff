// title: Devices shared by more than N accounts
// description: Device fingerprints on many accounts (households share a few; farms share many).
// param: min_accounts = 3
// tags: device, overview
MATCH (d:Device)<-[:HAS_IDENTIFIER]-(a:Account)
WITH d, collect(a.account_id) AS accounts, collect(DISTINCT a.org) AS orgs
WHERE size(accounts) > $min_accounts
RETURN d.value AS device, size(accounts) AS account_count, orgs[..5] AS orgs, accounts[..20] AS sample
ORDER BY account_count DESC
LIMIT 200
