// title: Accounts on a proxy network also seen on a corporate NAT
// description: Accounts that egress through a proxy network and also through an unproxied IP shared by at least N accounts of one organisation — a campaign hiding among employees, or an employee using a proxy.
// param: min_org_accounts = 5
// tags: proxy, ip, organisation
MATCH (nat:IP)<-[:USED_IP|HAS_IDENTIFIER]-(member:Account)
WHERE coalesce(nat.proxy_type, 'none') = 'none' AND member.org IS NOT NULL
WITH nat, member.org AS org, count(DISTINCT member) AS org_accounts
WHERE org_accounts >= $min_org_accounts
MATCH (nat)<-[:USED_IP|HAS_IDENTIFIER]-(a:Account)-[:USED_NETWORK]->(p:ProxyNetwork)
RETURN DISTINCT a.account_id AS account, a.org AS account_org, org AS nat_org, nat.value AS nat_ip, p.name AS proxy_network
ORDER BY proxy_network, account
LIMIT 500
