// Cohesion of accounts in their communities, read from the GDS graph $name of the whole linkage: the share of
// each account's linkage weight (weak links included) that stays inside its own community.
// $community: GDS node id (as text) -> community, for the accounts to measure.
CALL gds.graph.relationshipProperty.stream($name, 'weight')
YIELD sourceNodeId AS one, targetNodeId AS other, propertyValue AS weight
WITH one, other, weight, $community[toString(one)] AS own
WHERE own IS NOT NULL
WITH one, sum(weight) AS total, sum(CASE WHEN $community[toString(other)] = own THEN weight ELSE 0.0 END) AS inside
RETURN one AS node, CASE WHEN total > 0 THEN inside / total ELSE 0.0 END AS cohesion
