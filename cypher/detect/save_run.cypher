// Record one detection run and the campaigns it found (created, or updated in place when the id continues).
CREATE (run:DetectionRun {run_id: $run_id, started_at: datetime($started_at), finished_at: datetime(),
                          engine: $engine, accounts: $accounts, linkage_edges: $linkage_edges,
                          // start of the evidence window (null: all history)
                          evidence_since: CASE WHEN $evidence_since IS NULL THEN null ELSE datetime($evidence_since) END,
                          campaigns: size($campaigns), flagged_campaigns: $flagged_campaigns,
                          parameters: $parameters})
WITH run
UNWIND $campaigns AS c
MERGE (campaign:Campaign {campaign_id: c.campaign_id})
ON CREATE SET campaign.first_run = $run_id
SET campaign.score = c.score, campaign.flagged = c.flagged, campaign.size = c.size, campaign.active = true,
    campaign.last_run = $run_id, campaign.evidence = c.evidence, campaign.contributions = c.contributions,
    campaign.accounting = c.accounting, campaign.requests = c.requests,
    campaign.first_activity = datetime(c.first_activity), campaign.last_activity = datetime(c.last_activity)
REMOVE campaign.ended_run
CREATE (run)-[:FOUND {event: c.event, related: c.related, score: c.score, size: c.size}]->(campaign)
RETURN count(campaign) AS campaigns
