// Forget a GDS graph detection has dropped.
MATCH (p:GdsProjection {name: $name})
DELETE p
