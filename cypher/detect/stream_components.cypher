// Weakly connected components of the GDS graph $name over its strong links (`strong` 1), one thread so
// runs repeat exactly: one row of lists (graph.db.columns), each account's GDS node id, account id and
// component.
CALL gds.wcc.stream($name, {relationshipWeightProperty: 'strong', threshold: 0.5, concurrency: 1})
YIELD nodeId, componentId
RETURN collect(nodeId) AS node, collect(gds.util.asNode(nodeId).account_id) AS account,
       collect(componentId) AS label
