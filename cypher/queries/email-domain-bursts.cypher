// title: E-mail domains with many sign-ups in one day
// description: Days on which at least N accounts were created with e-mail addresses on the same domain (free-mail domains excluded by the list parameter).
// param: min_accounts = 10
// param: ignore_domains = ["gmail.com", "outlook.com", "yahoo.com", "proton.me", "qq.com", "163.com"]
// tags: creation, email, timing
MATCH (a:Account)
WHERE a.email CONTAINS '@' AND a.created_at IS NOT NULL
WITH toLower(split(a.email, '@')[1]) AS domain, date(a.created_at) AS day, collect(a.account_id) AS accounts
WHERE NOT domain IN $ignore_domains AND size(accounts) >= $min_accounts
RETURN domain, day, size(accounts) AS created, accounts[..20] AS sample
ORDER BY created DESC
LIMIT 200
