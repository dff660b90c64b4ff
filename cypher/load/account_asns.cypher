// Use of an ASN over all of an account's requests (every IP, not only the top-k).
UNWIND $rows AS row
MERGE (a:Account {account_id: row.account_id})
MERGE (s:ASN {asn: row.asn})
MERGE (a)-[r:USED_ASN]->(s)
SET r.count = row.n, r.distinct_ips = row.distinct_ips,
    r.first_seen = datetime(row.first_seen), r.last_seen = datetime(row.last_seen)
