// The stored state of campaigns (as their latest run left them): evidence, accounting and flags.
UNWIND $campaign_ids AS campaign_id
MATCH (c:Campaign {campaign_id: campaign_id})
RETURN c.campaign_id AS campaign_id, c.score AS score, c.flagged AS flagged, c.size AS size, c.active AS active,
       c.evidence AS evidence, c.accounting AS accounting, c.first_run AS first_run, c.last_run AS last_run
