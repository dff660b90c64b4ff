// title: Shortest linkage path between two accounts
// description: The shortest chain of shared identifiers, proxy networks, prompt templates or relations that connects two accounts.
// param: account = "acc_0000310"
// param: other = "acc_0000433"
// tags: path, pivot
MATCH (a:Account {account_id: $account}), (b:Account {account_id: $other})
MATCH p = shortestPath((a)-[:HAS_IDENTIFIER|USED_IP|USED_NETWORK|SENT|RELATED*..8]-(b))
RETURN p, length(p) AS hops
