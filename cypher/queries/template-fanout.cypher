// title: Prompt templates sent by the most accounts
// description: Templates ranked by the number of distinct accounts sending them; a template shared by hundreds of otherwise unrelated accounts is a campaign fingerprint.
// param: min_accounts = 5
// tags: template, overview
MATCH (t:PromptTemplate)<-[s:SENT]-(a:Account)
WITH t, count(a) AS accounts, sum(s.n) AS requests
WHERE accounts >= $min_accounts
RETURN t.template_id AS template, accounts, requests, left(t.sample, 160) AS sample
ORDER BY accounts DESC
LIMIT 200
