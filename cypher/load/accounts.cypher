// accounts rows: the account record; missing optional values clear the property (the latest load is the truth).
UNWIND $rows AS row
MERGE (a:Account {account_id: row.account_id})
SET a.created_at = datetime(row.created_at), a.email = row.email, a.org = row.org, a.country = row.country,
    a.plan = row.plan, a.status = row.status
