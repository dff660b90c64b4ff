// relations rows: one RELATED edge per (account, other account, kind).
UNWIND $rows AS row
MERGE (a:Account {account_id: row.account_id})
MERGE (b:Account {account_id: row.other_account_id})
MERGE (a)-[r:RELATED {kind: row.kind}]->(b)
SET r.ts = datetime(row.ts)
