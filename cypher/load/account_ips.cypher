// The top-k IPs of each account by request count.
UNWIND $rows AS row
MERGE (a:Account {account_id: row.account_id})
MERGE (ip:IP {value: row.ip})
MERGE (a)-[r:USED_IP]->(ip)
SET r.count = row.n, r.first_seen = datetime(row.first_seen), r.last_seen = datetime(row.last_seen)
