// Personalised PageRank on the GDS graph $name with the configuration $config (restart nodes in
// `sourceNodes`): one row of lists (graph.db.columns), each account's id and score.
CALL gds.pageRank.stream($name, $config)
YIELD nodeId, score
RETURN collect(gds.util.asNode(nodeId).account_id) AS account, collect(score) AS score
