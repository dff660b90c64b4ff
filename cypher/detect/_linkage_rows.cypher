// Included by detect/project_linkage and detect/linkage_edges: every link of the linkage as rows
// `one, other, weight, strong, stored` (Account nodes; parallel links of one pair are separate rows): the
// stored LINKED edges (stored 1.0), then the weak links computed from the graph as detect/link_accounts would
// (stored 0.0; $weak is true).
CALL () {
  MATCH (a:Account)-[link:LINKED]->(b:Account)
  RETURN a AS one, b AS other, link.weight AS weight, link.strong AS strong, 1.0 AS stored
UNION ALL
// include: detect/_link_things
  CALL (source, link_kind, thing, templates, relation) {
// include: detect/_link_pairs
    RETURN one, other, weight, strong
  }
  RETURN one, other, weight, strong, 0.0 AS stored
}
