// labels rows: ground truth or analyst verdicts as account properties (a missing source keeps the stored one).
UNWIND $rows AS row
MERGE (a:Account {account_id: row.account_id})
SET a.label = row.label, a.label_source = coalesce(row.source, a.label_source)
