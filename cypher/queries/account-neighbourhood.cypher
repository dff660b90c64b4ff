// title: An account and everything one hop away
// description: The account, its identifiers, IPs, proxy networks and templates, as a graph (use the Graph tab).
// param: account = "acc_0000310"
// tags: graph, account
MATCH p = (a:Account {account_id: $account})-[]-()
RETURN p
LIMIT 300
