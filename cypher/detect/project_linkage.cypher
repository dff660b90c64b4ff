// Project the whole linkage into the GDS graph $name without writing its weak part to the store: every
// account as a node (isolated ones too), and one directed `LINK` relationship per link with its `weight`,
// `strong` and `stored` (detect/undirected_linkage then makes them one undirected relationship per pair).
// Parameters: those of detect/link_accounts, with $weak true.
CALL () {
  MATCH (a:Account)
  RETURN a AS one, null AS other, null AS weight, null AS strong, null AS stored
UNION ALL
// include: detect/_linkage_rows
  RETURN one, other, weight, strong, stored
}
WITH gds.graph.project($name, one, other,
       CASE WHEN other IS NULL THEN {}
            ELSE {relationshipType: 'LINK', relationshipProperties: {weight: weight, strong: strong, stored: stored}} END) AS graph
RETURN graph.nodeCount AS nodes, graph.relationshipCount AS relationships
