// Imported partner indicators equal to any of $probes [{kind, value}] (values already normalised or hashed).
UNWIND $probes AS probe
MATCH (i:PartnerIndicator {value: probe.value})
WHERE i.kind = probe.kind
RETURN i.source AS source, i.tlp AS tlp, i.kind AS kind, i.value AS value
