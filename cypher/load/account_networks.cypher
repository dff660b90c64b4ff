// Use of a proxy network over all of an account's requests (every IP, not only the top-k).
UNWIND $rows AS row
MERGE (a:Account {account_id: row.account_id})
MERGE (p:ProxyNetwork {name: row.proxy_network})
MERGE (a)-[r:USED_NETWORK]->(p)
SET r.count = row.n, r.distinct_ips = row.distinct_ips,
    r.first_seen = datetime(row.first_seen), r.last_seen = datetime(row.last_seen)
