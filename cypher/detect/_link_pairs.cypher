// Included by the linkage statements (`// include: detect/_link_pairs`), inside a subquery over the rows of
// detect/_link_things: the linked account pairs one shared thing makes, as rows
// `kind, family, strong, one, other, weight` (`one`, `other`: Account nodes).
  CALL (source, link_kind, thing, templates, relation) {
    // an identifier from `links` (HAS_IDENTIFIER) or an IP seen in requests (USED_IP)
    WITH link_kind AS kind, thing AS i WHERE source = 'identifier'
    // skipped before its members are read: a thing used once (most addresses) links nobody, and a supernode
    // (carrier NAT, a popular VPN exit) says nothing: an account has at most two uses of one identifier, so more
    // than twice the cutoff in uses is more than the cutoff in accounts. Only accounts have these relationships,
    // so the count is the node's stored degree (no label on the far end: nothing is read).
    WITH kind, i, COUNT { (i)<-[:HAS_IDENTIFIER|USED_IP]-() } AS uses
    WHERE uses >= 2 AND uses <= 2 * coalesce($max_members[kind], $max_members.default)
    MATCH (a:Account)-[r:HAS_IDENTIFIER|USED_IP]->(i)
    WHERE $since IS NULL OR r.last_seen IS NULL OR r.last_seen >= datetime($since)
    WITH kind, i, a, min(r.first_seen) AS first_seen, max(r.last_seen) AS last_seen,
         // share of the account's traffic through this IP (1.0 for identifiers the account declared)
         max(CASE WHEN type(r) = 'USED_IP' AND a.requests > 0 THEN toFloat(r.count) / a.requests ELSE 1.0 END) AS share
    ORDER BY a.account_id
    WITH kind, i, collect({account: a, first_seen: first_seen, last_seen: last_seen, share: share}) AS members
    RETURN kind, members, null AS family
  UNION ALL
    // proxy-network co-usage (USED_NETWORK summarises all of an account's requests, not only its top IPs)
    WITH link_kind AS kind, thing AS p WHERE source = 'network'
    WITH kind, p, COUNT { (p)<-[:USED_NETWORK]-() } AS users  // the stored degree, as above
    WHERE users >= 2 AND users <= coalesce($max_members[kind], $max_members.default)
    MATCH (a:Account)-[u:USED_NETWORK]->(p)
    WHERE $since IS NULL OR u.last_seen IS NULL OR u.last_seen >= datetime($since)
    WITH kind, p, a ORDER BY a.account_id
    WITH kind, p, collect({account: a}) AS members
    RETURN kind, members, null AS family
  UNION ALL
    // a prompt template family (paraphrased variants together) that makes up a real share of an account's traffic
    WITH templates WHERE source = 'template'
    UNWIND templates AS t
    MATCH (a:Account)-[s:SENT]->(t)
    WHERE $since IS NULL OR s.last_seen IS NULL OR s.last_seen >= datetime($since)
    WITH templates, a, sum(coalesce(s.n, 1)) AS n
    WHERE n >= $template_min_requests AND n >= $template_min_share * coalesce(a.requests, n)
    WITH templates, a, CASE WHEN a.requests > 0 THEN toFloat(n) / a.requests ELSE 1.0 END AS share
    ORDER BY a.account_id
    // grouped by the family, so other things' rows (no members here) produce no row at all
    WITH templates, collect({account: a, share: share}) AS members
    RETURN 'template' AS kind, members, coalesce(templates[0].family, templates[0].template_id) AS family
  UNION ALL
    // an explicit account-to-account relation from the input (referred, invited, paid, ...)
    WITH relation AS r WHERE source = 'relation'
    WITH r, startNode(r) AS a, endNode(r) AS b
    WHERE a <> b AND ($since IS NULL OR r.ts IS NULL OR r.ts >= datetime($since))
    RETURN 'relation' AS kind, [{account: a}, {account: b}] AS members, null AS family
  }
  WITH kind, members, family, size(members) AS d
  WHERE d >= 2 AND d <= coalesce($max_members[kind], $max_members.default)
  WITH kind, members, family, d, coalesce($kind_weight[kind], $kind_weight.default) AS kind_weight,
       CASE WHEN d <= $clique_max THEN range(1, d - 1)
            ELSE [k IN range(0, toInteger(floor(log(d - 1) / log(2)))) | toInteger(2 ^ k)] END AS offsets
  WITH kind, members, family, d, offsets, CASE WHEN kind IN $strong_kinds THEN 1.0 ELSE 0.0 END AS strong,
       CASE WHEN d <= $clique_max THEN kind_weight / (d - 1) ELSE kind_weight / (2.0 * size(offsets)) END AS pair_weight
  UNWIND range(0, d - 1) AS x
  UNWIND offsets AS offset
  WITH kind, family, strong, pair_weight, d, members[x] AS m1, members[(x + offset) % d] AS m2, x + offset < d AS forward
  WHERE (d > $clique_max OR forward) AND m1.account <> m2.account
  // the gap in seconds between the two spans (0 when they overlap; no decay when a span is unknown)
  WITH kind, family, strong, pair_weight, m1, m2,
       [t IN [m1.first_seen, m2.first_seen, m1.last_seen, m2.last_seen] | t.epochSeconds] AS s,
       CASE kind WHEN 'template' THEN $template_full_share
                 WHEN 'ip' THEN $ip_full_share WHEN 'shared_exit' THEN $ip_full_share END AS full_share
  WITH kind, family, strong, m1.account AS one, m2.account AS other,
       CASE WHEN kind IN ['ip', 'shared_exit'] AND none(v IN s WHERE v IS NULL)
            THEN pair_weight * exp(-1.0 * CASE
                   WHEN s[0] > s[3] THEN s[0] - s[3]       // m1 starts after m2 ended
                   WHEN s[1] > s[2] THEN s[1] - s[2]       // m2 starts after m1 ended
                   ELSE 0 END / 3600.0 / $ip_decay_hours)
            ELSE pair_weight END
       // an address or template carrying a sliver of one account's traffic (a proxy exit that is somebody's
       // home, a product template used now and then) says little: scale by the smaller share over full_share
       * CASE WHEN full_share IS NULL THEN 1.0
              WHEN m1.share < full_share AND m1.share <= m2.share THEN m1.share / full_share
              WHEN m2.share < full_share THEN m2.share / full_share
              ELSE 1.0 END AS weight
