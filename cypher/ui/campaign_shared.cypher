// What members of a campaign share: identifiers, proxy networks and templates used by at least two of the given
// members — hard identifiers (cards, devices, …) first, then proxy networks, IPs, and templates last.
MATCH (a:Account)-[r:HAS_IDENTIFIER|USED_IP|USED_NETWORK|SENT]->(i)
WHERE a.account_id IN $members
WITH i, collect(DISTINCT a.account_id) AS users
WHERE size(users) >= 2
RETURN elementId(i) AS id, labels(i)[0] AS label,
       toString(coalesce(i.value, i.name, i.asn, i.template_id)) AS value, i.proxy_type AS proxy_type, users
ORDER BY CASE WHEN i:PromptTemplate THEN 3 WHEN i:IP THEN 2 WHEN i:ProxyNetwork THEN 1 ELSE 0 END, size(users) DESC
LIMIT $limit
