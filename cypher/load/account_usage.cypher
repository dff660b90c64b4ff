// Per-account usage features aggregated from requests (loaders/aggregate.py); requests themselves are not stored.
UNWIND $rows AS row
MERGE (a:Account {account_id: row.account_id})
SET a.requests = row.requests, a.input_tokens = row.input_tokens, a.output_tokens = row.output_tokens,
    a.active_days = row.active_days, a.activity_days = row.activity_days, a.activity_counts = row.activity_counts,
    a.hour_profile = row.hour_profile, a.hour_entropy = row.hour_entropy,
    a.first_request = datetime(row.first_request), a.last_request = datetime(row.last_request),
    a.distinct_ips = row.distinct_ips, a.models = row.models, a.model_counts = row.model_counts,
    a.capabilities = row.capabilities, a.capability_counts = row.capability_counts
