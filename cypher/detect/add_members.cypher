// A batch of memberships: [{campaign_id, account_id}].
UNWIND $rows AS row
MATCH (campaign:Campaign {campaign_id: row.campaign_id})
MATCH (a:Account {account_id: row.account_id})
CREATE (campaign)-[:INCLUDES]->(a)
