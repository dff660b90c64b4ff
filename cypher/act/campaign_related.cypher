// Campaigns tied to $campaign as possibly one operator: the direct ties with their reasons and strength,
// and every campaign of its group (ties followed transitively).
MATCH (c:Campaign {campaign_id: $campaign})
OPTIONAL MATCH (c)-[r:RELATED_TO]-(o:Campaign)
WITH c, collect(CASE WHEN o IS NULL THEN null ELSE {campaign_id: o.campaign_id, reasons: r.reasons,
                    strength: r.strength, run_id: r.run_id} END) AS related
OPTIONAL MATCH (c)-[:RELATED_TO*1..20]-(g:Campaign)
WITH related, [x IN collect(DISTINCT g.campaign_id) WHERE x <> $campaign] AS group
RETURN related, group
