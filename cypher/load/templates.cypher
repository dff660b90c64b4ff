// Prompt templates found in requests (near-duplicate clusters or given fingerprints).
UNWIND $rows AS row
MERGE (t:PromptTemplate {template_id: row.template_id})
SET t.sample = row.sample, t.requests = row.requests, t.accounts = row.accounts
