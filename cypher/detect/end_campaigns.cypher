// Campaigns no cluster of this run continues: inactive, without members, with an ENDED record.
MATCH (run:DetectionRun {run_id: $run_id})
UNWIND $ended AS e
MATCH (campaign:Campaign {campaign_id: e.campaign_id})
SET campaign.active = false, campaign.ended_run = $run_id
CREATE (run)-[:ENDED {related: e.related}]->(campaign)
WITH campaign
OPTIONAL MATCH (campaign)-[old:INCLUDES]->(:Account)
DELETE old
