// Project weighted pairs given as parameters into an undirected GDS graph $name, without reading the store
// (community refinement, graph/detect/communities.py). $pairs: [[source, target, weight]] with integer node
// ids chosen by the caller; GDS keeps them as the nodes' original ids, so results map straight back.
UNWIND $pairs AS pair
WITH gds.graph.project($name, pair[0], pair[1], {relationshipProperties: {weight: pair[2]}},
                       {undirectedRelationshipTypes: ['*']}) AS graph
RETURN graph.nodeCount AS nodes, graph.relationshipCount AS relationships
