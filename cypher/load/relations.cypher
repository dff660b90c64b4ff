// relations rows, aggregated per (account, other account, kind) by the loader (loaders/validate.py): one RELATED
// edge carries how many events there were, the first and last time and the summed amount. The values of one
// load replace the stored ones (SET, never +=), so re-running a load changes nothing.
// `ts` repeats last_seen: the detection evidence window reads it.
UNWIND $rows AS row
MERGE (a:Account {account_id: row.account_id})
MERGE (b:Account {account_id: row.other_account_id})
MERGE (a)-[r:RELATED {kind: row.kind}]->(b)
SET r.count = row.count, r.first_seen = datetime(row.first_seen), r.last_seen = datetime(row.last_seen),
    r.ts = datetime(row.last_seen), r.amount = row.amount
