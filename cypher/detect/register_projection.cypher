// Record a GDS graph detection is about to create, so that the console's GDS-state check leaves it alone.
MERGE (p:GdsProjection {name: $name})
SET p.created_at = datetime()
