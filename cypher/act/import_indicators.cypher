// Store a validated partner bundle's indicator values (graph/act/indicators.py), one node per (source, kind,
// value): a re-import updates in place. Runs as one transaction: a failure writes nothing.
UNWIND $rows AS row
MERGE (i:PartnerIndicator {source: $source, kind: row.kind, value: row.value})
ON CREATE SET i.first_imported = datetime($imported_at), i.created_now = true
SET i.tlp = row.tlp, i.stix_id = row.stix_id, i.pattern = row.pattern, i.valid_from = row.valid_from,
    i.imported_at = datetime($imported_at)
WITH i, coalesce(i.created_now, false) AS created
REMOVE i.created_now
RETURN sum(CASE WHEN created THEN 1 ELSE 0 END) AS new
