// Leiden communities of the GDS graph $name with the configuration $config (graph/detect/communities.py):
// one row of lists (graph.db.columns), each node's GDS node id and community.
CALL gds.leiden.stream($name, $config)
YIELD nodeId, communityId
RETURN collect(nodeId) AS node, collect(communityId) AS label
