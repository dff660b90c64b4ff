// title: Accounts whose traffic runs on widely shared prompt templates
// description: Accounts sending at least the given share of their requests from templates that many other accounts also send — scripted extraction from a template pool looks like this. Popular product templates do too: check what else the accounts share.
// param: min_share = 0.5
// param: min_senders = 10
// param: min_requests = 100
// tags: template, behaviour
MATCH (a:Account)-[s:SENT]->(t:PromptTemplate)
WHERE a.requests >= $min_requests
CALL (t) { MATCH (t)<-[:SENT]-(x:Account) RETURN count(x) AS senders }
WITH a, s, t, senders WHERE senders >= $min_senders
WITH a, sum(s.n) AS on_shared, count(t) AS templates
WHERE on_shared >= $min_share * a.requests
RETURN a.account_id AS account, templates, on_shared AS requests_on_shared_templates, a.requests AS requests,
       round(toFloat(on_shared) / a.requests, 3) AS share
ORDER BY share DESC, requests DESC
LIMIT 500
