// Every imported partner address block (matched by containment in Python).
MATCH (i:PartnerIndicator {kind: 'cidr'})
RETURN i.source AS source, i.tlp AS tlp, i.value AS value
