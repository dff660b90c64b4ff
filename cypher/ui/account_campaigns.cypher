// Campaigns that include an account, with the account's own score in each.
MATCH (c:Campaign)-[m:INCLUDES]->(:Account {account_id: $account})
RETURN c.campaign_id AS campaign_id, c.score AS campaign_score, m.score AS account_score, c.size AS size,
       c.active AS active
ORDER BY c.score DESC
