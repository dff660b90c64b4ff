// Campaigns that include an account, with the account's own score in each and the campaign's top evidence lines.
MATCH (c:Campaign)-[m:INCLUDES]->(:Account {account_id: $account})
RETURN c.campaign_id AS campaign_id, c.score AS campaign_score, m.score AS account_score, c.size AS size,
       c.active AS active, c.flagged AS flagged, coalesce(c.evidence, [])[..3] AS evidence
ORDER BY c.score DESC
