// labels rows: ground truth or analyst verdicts as account properties.
UNWIND $rows AS row
MERGE (a:Account {account_id: row.account_id})
SET a.label = row.label, a.label_source = row.source
