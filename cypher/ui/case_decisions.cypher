// The decisions recorded on a campaign's case, newest first, without their member lists (ui/decision_accounts).
MATCH (:Case {subject_kind: 'campaign', subject_id: $campaign})-[:DECIDED]->(d:Decision)
RETURN d.decision_id AS decision_id, d.status AS decision, d.decided_by AS decided_by,
       toString(d.decided_at) AS decided_at, d.run_id AS run_id, d.score AS score, d.size AS size,
       d.requests AS requests, d.evidence AS evidence, d.contributions AS contributions,
       size(d.account_ids) AS accounts
ORDER BY d.decided_at DESC
