// Which account sent which template, how often and when.
UNWIND $rows AS row
MERGE (a:Account {account_id: row.account_id})
MERGE (t:PromptTemplate {template_id: row.template_id})
MERGE (a)-[r:SENT]->(t)
SET r.n = row.n, r.first_seen = datetime(row.first_seen), r.last_seen = datetime(row.last_seen)
