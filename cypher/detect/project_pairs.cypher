// Project weighted pairs given as parameters into an undirected GDS graph $name, without reading the store
// (community refinement, graph/detect/communities.py). Columns of equal length: $one, $other (integer node ids
// chosen by the caller; GDS keeps them as the nodes' original ids, so results map straight back), $weight.
UNWIND range(0, size($one) - 1) AS i
WITH gds.graph.project($name, $one[i], $other[i], {relationshipProperties: {weight: $weight[i]}},
                       {undirectedRelationshipTypes: ['*']}) AS graph
RETURN graph.nodeCount AS nodes, graph.relationshipCount AS relationships
