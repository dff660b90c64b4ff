// links rows, aggregated per (account, kind, value) by the loader: count (a row without one counts once),
// earliest first_seen, latest last_seen. account -> identifier. Known kinds get their own label (so the uniqueness index serves the MERGE);
// any other kind is an (:Identifier {kind, value}).
UNWIND $rows AS row
MERGE (a:Account {account_id: row.account_id})
WITH a, row
CALL (row) {
  WITH * WHERE row.kind = 'payment'
  MERGE (n:PaymentMethod {value: row.value}) RETURN n
  UNION
  WITH * WHERE row.kind = 'ip'
  MERGE (n:IP {value: row.value}) RETURN n
  UNION
  WITH * WHERE row.kind = 'device'
  MERGE (n:Device {value: row.value}) RETURN n
  UNION
  WITH * WHERE row.kind = 'email'
  MERGE (n:Email {value: row.value}) RETURN n
  UNION
  WITH * WHERE row.kind = 'phone'
  MERGE (n:Phone {value: row.value}) RETURN n
  UNION
  WITH * WHERE row.kind = 'api_key'
  MERGE (n:ApiKey {value: row.value}) RETURN n
  UNION
  WITH * WHERE NOT row.kind IN ['payment', 'ip', 'device', 'email', 'phone', 'api_key']
  MERGE (n:Identifier {kind: row.kind, value: row.value}) RETURN n
}
MERGE (a)-[r:HAS_IDENTIFIER]->(n)
SET r.kind = row.kind, r.first_seen = datetime(row.first_seen), r.last_seen = datetime(row.last_seen), r.count = row.count
