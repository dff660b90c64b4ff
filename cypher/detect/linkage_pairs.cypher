// The account pairs of the linkage graph $name in GDS memory (detect/project_linkage) whose relationship
// property $property is at least $min, each pair once: one row of lists (graph.db.columns) of the two GDS node
// ids and the value. Refinement and cohesion then work on these arrays (graph/detect/communities.py).
CALL gds.graph.relationshipProperty.stream($name, $property)
YIELD sourceNodeId AS one, targetNodeId AS other, propertyValue AS value
WITH one, other, value
WHERE one < other AND value >= $min
RETURN collect(one) AS one, collect(other) AS other, collect(value) AS value
