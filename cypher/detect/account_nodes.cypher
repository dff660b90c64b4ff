// GDS node ids of accounts (source nodes for personalized PageRank).
UNWIND $account_ids AS account_id
MATCH (a:Account {account_id: account_id})
RETURN account_id, id(a) AS node_id
