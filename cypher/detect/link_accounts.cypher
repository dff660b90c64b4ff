// Build the stored account–account linkage: one (:Account)-[:LINKED {kind, weight, strong}]->(:Account) edge
// per pair of accounts per shared thing (identifier, proxy network, prompt template, relation) of every kind
// that is not weak. Weak kinds ($weak_kinds: plain IPs, shared exits, VPN networks: 70 % of all pairs at
// 1M accounts, and never evidence on their own) are not stored: detect/project_linkage computes them again
// for GDS from the same two included parts, and the UI answers "why linked" from the IPs two accounts share.
// `strong` is 1.0 for hard identifiers ($strong_kinds) and 0.0 otherwise (a number, so GDS can project it).
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
// Parameters: $weak_kinds, $weak (false here), $since (ISO datetime or null), $kind_weight and $max_members (maps keyed by kind, with a `default`), $strong_kinds,
// $shared_exit_types, $clique_max, $ip_decay_hours, $ip_full_share, $template_min_share, $template_full_share,
// $template_min_requests, $batch.
// Memory: the statement streams the shared things (identifiers, networks, template families, relations) and
// expands them IN TRANSACTIONS OF $batch things, so no transaction holds more than one batch's members
// (one query that grouped every identifier at once ran out of transaction memory at 1M accounts).
// include: detect/_link_things
CALL (source, link_kind, thing, templates, relation) {
// include: detect/_link_pairs
  // template links name their family (null, i.e. no property, for every other kind): refinement reads it
  CREATE (one)-[:LINKED {kind: kind, weight: weight, strong: strong, family: family}]->(other)
} IN TRANSACTIONS OF $batch ROWS
