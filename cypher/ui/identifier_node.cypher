// The identifier node itself (any kind), for the page header.
CALL () {
  MATCH (i:$($label) {value: $value}) WHERE $label IN ['PaymentMethod', 'IP', 'Device', 'Email', 'Phone', 'ApiKey'] RETURN i
  UNION
  MATCH (i:Identifier {kind: $kind, value: $value}) WHERE $label = 'Identifier' RETURN i
  UNION
  MATCH (i:ProxyNetwork {name: $value}) WHERE $label = 'ProxyNetwork' RETURN i
  UNION
  MATCH (i:ASN {asn: toInteger($value)}) WHERE $label = 'ASN' RETURN i
  UNION
  MATCH (i:PromptTemplate {template_id: $value}) WHERE $label = 'PromptTemplate' RETURN i
}
RETURN i {.*} AS node
LIMIT 1
