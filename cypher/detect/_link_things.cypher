// Included by the linkage statements (`// include: detect/_link_things`): the shared things the linkage is
// built from, one row each: `source` (identifier, network, template, relation), the kind of link it makes
// (`link_kind`) and the thing (`thing`, or the `templates` of one family, or the `relation`).
// Only the things whose kind is weak (in $weak_kinds) when $weak is true, only the others when it is false:
// the stored linkage and the in-memory weak linkage read the same graph the same way.
CALL () {
  MATCH (i:PaymentMethod|IP|Device|Email|Phone|ApiKey|Identifier)
  WITH i, CASE
            WHEN i:PaymentMethod THEN 'payment'
            // residential, VPN and Tor exits are shared by unrelated customers by design: a weak kind of their own
            WHEN i:IP AND i.proxy_type IN $shared_exit_types THEN 'shared_exit'
            WHEN i:IP THEN 'ip' WHEN i:Device THEN 'device'
            WHEN i:Email THEN 'email' WHEN i:Phone THEN 'phone' WHEN i:ApiKey THEN 'api_key'
            ELSE i.kind END AS link_kind
  WHERE (link_kind IN $weak_kinds) = $weak
  RETURN 'identifier' AS source, link_kind, i AS thing, null AS templates, null AS relation
UNION ALL
  MATCH (p:ProxyNetwork)
  // consumer VPNs are shared by many honest users: their own, weaker kind
  WITH p, CASE p.proxy_type WHEN 'vpn' THEN 'vpn_network' ELSE 'proxy_network' END AS link_kind
  WHERE (link_kind IN $weak_kinds) = $weak
  RETURN 'network' AS source, link_kind, p AS thing, null AS templates, null AS relation
UNION ALL
  MATCH (t:PromptTemplate)
  WHERE ('template' IN $weak_kinds) = $weak
  WITH coalesce(t.family, t.template_id) AS family, collect(t) AS templates
  RETURN 'template' AS source, 'template' AS link_kind, null AS thing, templates, null AS relation
UNION ALL
  MATCH (:Account)-[r:RELATED]->(:Account)
  WHERE ('relation' IN $weak_kinds) = $weak
  RETURN 'relation' AS source, 'relation' AS link_kind, null AS thing, null AS templates, r AS relation
}
