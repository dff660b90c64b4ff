// title: Payment methods shared by the most accounts
// description: Cards and other payment methods ranked by how many accounts use them, with the organisations behind them (one org = a corporate card; none = look closer).
// param: min_accounts = 3
// tags: payment, overview
MATCH (pm:PaymentMethod)<-[:HAS_IDENTIFIER]-(a:Account)
WITH pm, count(a) AS accounts, collect(DISTINCT a.org) AS orgs, collect(a.account_id)[..10] AS sample
WHERE accounts >= $min_accounts
RETURN pm.value AS payment_method, accounts, size(orgs) AS distinct_orgs, orgs[..5] AS orgs, sample
ORDER BY accounts DESC
LIMIT 200
