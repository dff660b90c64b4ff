// One account with its usage features.
MATCH (a:Account {account_id: $account})
RETURN a {.*} AS account
