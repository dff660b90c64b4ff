// The links inside groups of accounts, read from the GDS graph $name of the whole linkage (community
// refinement, graph/detect/communities.py): one row per linked pair of members of the same group with the
// pair's weight and whether it has a stored link. Filtered here, so only the groups' own links leave the server.
// $group_of: GDS node id (as text) -> group number (the groups are disjoint).
CALL gds.graph.relationshipProperties.stream($name, ['weight', 'stored'])
YIELD sourceNodeId AS one, targetNodeId AS other, relationshipProperty AS property, propertyValue AS value
WITH one, other, property, value, $group_of[toString(one)] AS grp
WHERE one < other AND grp IS NOT NULL AND grp = $group_of[toString(other)]
WITH grp, one, other, sum(CASE property WHEN 'weight' THEN value ELSE 0.0 END) AS weight,
     max(CASE property WHEN 'stored' THEN value ELSE 0.0 END) AS stored
RETURN grp AS group, one AS source, other AS target, weight, stored
