// Replace the "possibly one operator" ties between campaigns with those of run $run_id
// (graph/act/related.py). $pairs: [{a, b, reasons: [sentence], strength}], a < b.
OPTIONAL MATCH ()-[old:RELATED_TO]->()
DELETE old
WITH count(*) AS cleared
UNWIND $pairs AS pair
MATCH (a:Campaign {campaign_id: pair.a}), (b:Campaign {campaign_id: pair.b})
CREATE (a)-[:RELATED_TO {reasons: pair.reasons, strength: pair.strength, run_id: $run_id}]->(b)
RETURN count(*) AS related
