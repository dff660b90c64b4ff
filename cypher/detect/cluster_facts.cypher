// Raw facts about each candidate cluster, for scoring and evidence (graph/detect/scoring.py turns them into
// features). $clusters: [{cluster, members: [account_id]}]. Each member is looked up once.
UNWIND $clusters AS c
CALL (c) {
  UNWIND c.members AS account_id
  MATCH (a:Account {account_id: account_id})
  RETURN collect(a) AS members
}
CALL (members) {
  UNWIND members AS a
  RETURN count(a) AS accounts,
         sum(coalesce(a.requests, 0)) AS requests,
         sum(coalesce(a.input_tokens, 0)) AS input_tokens,
         sum(coalesce(a.output_tokens, 0)) AS output_tokens,
         min(a.first_request) AS first_request,
         max(a.last_request) AS last_request,
         collect(coalesce(a.requests, 0)) AS requests_per_account,
         [t IN collect(a.created_at) | t.epochSeconds] AS created,
         [o IN collect(a.org) WHERE o <> ''] AS orgs,
         [e IN collect(a.email) | split(e, '@')[-1]] AS email_domains,
         collect(a.hour_profile) AS hour_profiles,
         collect({names: a.capabilities, counts: a.capability_counts}) AS capability_mixes,
         collect({requests: coalesce(a.requests, 0), ips: coalesce(a.distinct_ips, 0),
                  days: coalesce(a.active_days, 0)}) AS ip_rotation
}
CALL (members) {
  // payment methods among the members, and how many members use each
  UNWIND members AS a
  MATCH (a)-[:HAS_IDENTIFIER]->(p:PaymentMethod)
  WITH p, count(*) AS users
  RETURN count(p) AS payment_methods, sum(CASE WHEN users > 1 THEN users ELSE 0 END) AS accounts_on_shared_cards,
         max(users) AS largest_card_users
}
CALL (members) {
  // the other hard identifiers (device, phone, API key, e-mail identifier): members on one another member uses
  UNWIND members AS a
  MATCH (a)-[:HAS_IDENTIFIER]->(h)
  WHERE h:Device OR h:Phone OR h:ApiKey OR h:Email
  WITH h, collect(DISTINCT a) AS users
  WHERE size(users) > 1
  UNWIND users AS a
  RETURN count(DISTINCT a) AS accounts_on_shared_hard
}
CALL (members) {
  // declared relations (referral, invitation, transfer) of the members: scoring keeps those inside the cluster
  UNWIND members AS a
  MATCH (a)-[:RELATED]-(b:Account)
  RETURN collect(DISTINCT [a.account_id, b.account_id]) AS relation_pairs
}
CALL (members) {
  // the address block (IPv4 /22, IPv6 /48) holding the most members among addresses no intel marks as an
  // anonymising proxy
  UNWIND members AS a
  MATCH (a)-[r:USED_IP]->(ip:IP)
  WHERE coalesce(ip.proxy_type, 'none') IN ['none', 'datacenter', 'hosting']
  WITH a, ip, r, split(ip.value, '.') AS o, split(split(ip.value, '::')[0], ':') AS h
  WITH a, ip, r,
       CASE WHEN ip.value CONTAINS ':'
            THEN h[0] + ':' + coalesce(h[1], '0') + ':' + coalesce(h[2], '0') + '::/48'
            WHEN size(o) = 4 THEN o[0] + '.' + o[1] + '.' + toString(toInteger(o[2]) / 4 * 4) + '.0/22' END AS block
  WHERE block IS NOT NULL
  WITH block, count(DISTINCT a) AS users, count(DISTINCT ip) AS ips, sum(coalesce(r.count, 1)) AS n
  ORDER BY users DESC, ips DESC, block
  LIMIT 1
  RETURN collect({block: block, users: users, ips: ips, n: n}) AS top_block
}
CALL (members) {
  // the members' top IPs: how many members share each address, and its exit type
  UNWIND members AS a
  MATCH (a)-[r:USED_IP]->(ip:IP)
  WITH ip, sum(coalesce(r.count, 1)) AS n, count(*) AS users
  RETURN collect({proxy_type: coalesce(ip.proxy_type, 'none'), n: n, users: users}) AS ip_usage
}
CALL (members) {
  // request volume by proxy network type over all of the members' requests
  UNWIND members AS a
  MATCH (a)-[r:USED_NETWORK]->(p:ProxyNetwork)
  WITH coalesce(p.proxy_type, 'unknown') AS proxy_type, sum(coalesce(r.count, 0)) AS n
  RETURN collect({proxy_type: proxy_type, n: n}) AS network_usage
}
CALL (members) {
  // the members' traffic per template family (paraphrases together), how many members use each family and
  // how many variants of it they send
  UNWIND members AS a
  MATCH (a)-[s:SENT]->(t:PromptTemplate)
  WITH coalesce(t.family, t.template_id) AS family, sum(coalesce(s.n, 0)) AS n, count(DISTINCT a) AS users,
       count(DISTINCT t) AS variants
  RETURN collect({n: n, users: users, variants: variants}) AS template_usage
}
RETURN c.cluster AS cluster, accounts, requests, input_tokens, output_tokens, first_request, last_request,
       requests_per_account, created, orgs, email_domains, hour_profiles, capability_mixes,
       payment_methods, accounts_on_shared_cards, largest_card_users, ip_usage, network_usage, template_usage,
       ip_rotation, accounts_on_shared_hard, relation_pairs, top_block
