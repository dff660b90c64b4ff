// The identifier node itself (any kind), for the page header; one indexed branch per label.
CALL () {
  MATCH (i:PaymentMethod {value: $value}) WHERE $label = 'PaymentMethod' RETURN i
  UNION
  MATCH (i:IP {value: $value}) WHERE $label = 'IP' RETURN i
  UNION
  MATCH (i:Device {value: $value}) WHERE $label = 'Device' RETURN i
  UNION
  MATCH (i:Email {value: $value}) WHERE $label = 'Email' RETURN i
  UNION
  MATCH (i:Phone {value: $value}) WHERE $label = 'Phone' RETURN i
  UNION
  MATCH (i:ApiKey {value: $value}) WHERE $label = 'ApiKey' RETURN i
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
