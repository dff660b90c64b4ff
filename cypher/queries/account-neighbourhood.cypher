// title: An account and everything one hop away
// description: The account, its identifiers, IPs, proxy networks and templates, as a graph (use the Graph tab).
// param: account = "acct-000001"
// tags: graph, account
MATCH p = (a:Account {account_id: $account})-[]-()
RETURN p
LIMIT 300
