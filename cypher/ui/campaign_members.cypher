// Members of a campaign, highest account score first, one page at a time.
MATCH (:Campaign {campaign_id: $campaign})-[m:INCLUDES]->(a:Account)
RETURN a.account_id AS account, a.org AS org, toString(a.created_at) AS created_at, m.score AS score,
       m.cohesion AS cohesion, a.requests AS requests, a.capabilities AS capabilities, a.label AS label
ORDER BY score DESC, account
SKIP $skip LIMIT $limit
