// accounts rows (merged per account_id by the loader): a value the load does not have keeps the stored one
// (a missing value never conflicts with a known one); a value the load has replaces it.
UNWIND $rows AS row
MERGE (a:Account {account_id: row.account_id})
SET a.created_at = coalesce(datetime(row.created_at), a.created_at), a.email = coalesce(row.email, a.email),
    a.org = coalesce(row.org, a.org), a.country = coalesce(row.country, a.country),
    a.plan = coalesce(row.plan, a.plan), a.status = coalesce(row.status, a.status)
