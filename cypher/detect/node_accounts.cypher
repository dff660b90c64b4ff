// Account ids of GDS node ids (the ids algorithm streams return).
UNWIND $node_ids AS node_id
RETURN node_id, gds.util.asNode(node_id).account_id AS account_id
