// Every account id (nodes of the in-process projection, isolated accounts included): one row of lists
// (graph.db.columns).
MATCH (a:Account)
RETURN collect(a.account_id) AS account_id
