// Build the account–account linkage: one (:Account)-[:LINKED {kind, weight, strong}]->(:Account) edge per
// pair of accounts per shared thing (identifier, proxy network, prompt template, relation). `strong` is 1.0
// for hard identifiers ($strong_kinds) and 0.0 otherwise (a number, so GDS can project it).
//
// * inverse frequency: an identifier shared by d accounts gives each pair weight kind_weight/(d-1) (resource
//   allocation), so every member receives the same total strength from it and a card shared by 3 weighs far
//   more per pair than an IP shared by 200;
// * supernodes: groups larger than $max_members[kind] (CGNAT, big corporate NAT, popular VPN) are skipped;
// * groups larger than $clique_max are not expanded into a full clique: members (ordered by account id) are
//   joined at power-of-two offsets, a sparse expander that gives each member the same total strength;
// * time: for IPs the pair weight decays with the gap between the two accounts' [first_seen, last_seen]
//   spans, exp(-gap_hours / $ip_decay_hours): the same hour counts fully, months apart almost nothing;
// * traffic share: for IPs it is also scaled by the smaller of the two accounts' shares of traffic through
//   the address over $ip_full_share (capped at 1): a household's home IP carries all of its traffic, a
//   rotating proxy client's exit through that same home a sliver of its own. Template families the same way
//   over $template_full_share (families under $template_min_share of an account's traffic do not count).
// * templates: paraphrased variants count as one template (PromptTemplate.family, set just before); each
//   template link records its family in `family` (community refinement keeps a family's senders together
//   when nobody outside their community sends it);
// * window: when $since is set, only uses last seen at or after it count (uses without a last_seen count:
//   their time is unknown); relations count when they happened at or after it.
// Parameters: $since (ISO datetime or null), $kind_weight and $max_members (maps keyed by kind, with a `default`), $strong_kinds,
// $shared_exit_types, $clique_max, $ip_decay_hours, $ip_full_share, $template_min_share, $template_full_share,
// $template_min_requests, $batch.
// Memory: the statement streams the shared things (identifiers, networks, template families, relations) and
// expands them IN TRANSACTIONS OF $batch things, so no transaction holds more than one batch's members
// (one query that grouped every identifier at once ran out of transaction memory at 1M accounts).
CALL () {
  MATCH (i:PaymentMethod|IP|Device|Email|Phone|ApiKey|Identifier)
  RETURN 'identifier' AS source, i AS thing, null AS templates, null AS relation
UNION ALL
  MATCH (p:ProxyNetwork)
  RETURN 'network' AS source, p AS thing, null AS templates, null AS relation
UNION ALL
  MATCH (t:PromptTemplate)
  WITH coalesce(t.family, t.template_id) AS family, collect(t) AS templates
  RETURN 'template' AS source, null AS thing, templates, null AS relation
UNION ALL
  MATCH (:Account)-[r:RELATED]->(:Account)
  RETURN 'relation' AS source, null AS thing, null AS templates, r AS relation
}
CALL (source, thing, templates, relation) {
  CALL (source, thing, templates, relation) {
    // an identifier from `links` (HAS_IDENTIFIER) or an IP seen in requests (USED_IP)
    WITH thing AS i WHERE source = 'identifier'
    MATCH (a:Account)-[r:HAS_IDENTIFIER|USED_IP]->(i)
    WHERE $since IS NULL OR r.last_seen IS NULL OR r.last_seen >= datetime($since)
    WITH i, a, min(r.first_seen) AS first_seen, max(r.last_seen) AS last_seen,
         // share of the account's traffic through this IP (1.0 for identifiers the account declared)
         max(CASE WHEN type(r) = 'USED_IP' AND a.requests > 0 THEN toFloat(r.count) / a.requests ELSE 1.0 END) AS share
    ORDER BY a.account_id
    WITH i, collect({account: a, first_seen: first_seen, last_seen: last_seen, share: share}) AS members
    RETURN CASE
             WHEN i:PaymentMethod THEN 'payment'
             // residential, VPN and Tor exits are shared by unrelated customers by design: a weak kind of their own
             WHEN i:IP AND i.proxy_type IN $shared_exit_types THEN 'shared_exit'
             WHEN i:IP THEN 'ip' WHEN i:Device THEN 'device'
             WHEN i:Email THEN 'email' WHEN i:Phone THEN 'phone' WHEN i:ApiKey THEN 'api_key'
             ELSE i.kind END AS kind, members, null AS family
  UNION ALL
    // proxy-network co-usage (USED_NETWORK summarises all of an account's requests, not only its top IPs)
    WITH thing AS p WHERE source = 'network'
    MATCH (a:Account)-[u:USED_NETWORK]->(p)
    WHERE $since IS NULL OR u.last_seen IS NULL OR u.last_seen >= datetime($since)
    WITH p, a ORDER BY a.account_id
    WITH p, collect({account: a}) AS members
    // consumer VPNs are shared by many honest users: their own, weaker kind
    RETURN CASE p.proxy_type WHEN 'vpn' THEN 'vpn_network' ELSE 'proxy_network' END AS kind, members,
           null AS family
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
  // template links name their family (null, i.e. no property, for every other kind): refinement reads it
  CREATE (one)-[:LINKED {kind: kind, weight: weight, strong: strong, family: family}]->(other)
} IN TRANSACTIONS OF $batch ROWS
