// The account ids a decision covered (its snapshot), with who decided what and when: the enforcement export.
MATCH (:Case {subject_kind: 'campaign', subject_id: $campaign})-[:DECIDED]->(d:Decision {decision_id: $decision})
RETURN d.decision_id AS decision_id, d.status AS decision, d.decided_by AS decided_by,
       toString(d.decided_at) AS decided_at, d.run_id AS run_id, d.account_ids AS account_ids
