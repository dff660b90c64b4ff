// title: Accounts whose traffic is dominated by one prompt template
// description: Accounts that send at least the given share of their requests from a single template — scripted extraction looks like this; people do not.
// param: min_share = 0.6
// param: min_requests = 100
// tags: template, behaviour
MATCH (a:Account)-[s:SENT]->(t:PromptTemplate)
WHERE a.requests >= $min_requests AND s.n >= $min_share * a.requests
RETURN a.account_id AS account, t.template_id AS template, s.n AS template_requests, a.requests AS requests,
       round(toFloat(s.n) / a.requests, 3) AS share, left(t.sample, 120) AS sample
ORDER BY share DESC, requests DESC
LIMIT 500
