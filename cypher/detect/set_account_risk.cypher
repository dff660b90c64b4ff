// Store the per-account risk of one detection run on the accounts (graph/detect/risk.py), a batch at a time:
// risk (percentile of the evidence in this graph, 0-1), risk_rank (1 = riskiest), risk_evidence (the summed
// surprise in nats), risk_factors (sentences), seeded_risk / seeded_rank (null without --seeds), risk_run.
UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id})
SET a.risk = row.risk, a.risk_rank = row.rank, a.risk_evidence = row.evidence, a.risk_factors = row.factors,
    a.seeded_risk = row.seeded_risk, a.seeded_rank = row.seeded_rank, a.risk_run = $run_id
