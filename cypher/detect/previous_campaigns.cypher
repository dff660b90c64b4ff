// The active campaigns and their members as the previous detection run left them.
MATCH (c:Campaign {active: true})
OPTIONAL MATCH (c)-[:INCLUDES]->(a:Account)
RETURN c.campaign_id AS campaign_id, collect(a.account_id) AS members
