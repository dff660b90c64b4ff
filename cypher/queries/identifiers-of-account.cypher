// title: Identifiers of an account and how widely each is shared
// description: Payment methods, IPs, devices, e-mails and other identifiers of one account, each with the number of accounts that share it. A card on 3 accounts is strong evidence; an IP on 5,000 is a carrier NAT.
// param: account = "acc_0000310"
// tags: pivot, account
MATCH (a:Account {account_id: $account})-[r:HAS_IDENTIFIER|USED_IP]->(i)
CALL (i) { MATCH (i)<-[:HAS_IDENTIFIER|USED_IP]-(x:Account) RETURN count(DISTINCT x) AS accounts }
RETURN labels(i)[0] AS kind, coalesce(i.value, i.name) AS identifier, type(r) AS via, r.count AS uses,
       accounts AS accounts_sharing
ORDER BY accounts_sharing DESC, kind
