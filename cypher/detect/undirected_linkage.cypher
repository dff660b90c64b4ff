// Turn the directed `LINK` relationships of the GDS graph $name (detect/project_linkage) into one undirected
// `LINKED` relationship per account pair, the pair's weights summed, `strong` and `stored` the largest (the
// pair has a strong link, a stored link), then drop `LINK`
// (an algorithm then sees exactly what the native projection of stored edges gave before).
CALL gds.graph.relationships.toUndirected($name, {relationshipType: 'LINK', mutateRelationshipType: 'LINKED',
                                                  aggregation: {weight: 'SUM', strong: 'MAX', stored: 'MAX'}})
YIELD relationshipsWritten
CALL gds.graph.relationships.drop($name, 'LINK')
YIELD deletedRelationships
RETURN relationshipsWritten AS relationships
