// Open or update the case about a campaign or an account; returns the values before the change for the audit trail.
// When a campaign's case moves to a decision ($decided statuses), the same statement keeps what the analyst saw: a
// (:Decision) snapshot of the campaign as the current run describes it (run, score, size, requests, evidence,
// contributions, member ids), so a later run changing the campaign never changes what was decided on.
CALL (*) {
  MATCH (s:Campaign {campaign_id: $subject}) WHERE $kind = 'campaign' RETURN s
  UNION
  MATCH (s:Account {account_id: $subject}) WHERE $kind = 'account' RETURN s
}
MERGE (c:Case {subject_kind: $kind, subject_id: $subject})
ON CREATE SET c.created_at = datetime(), c.status = 'new'
MERGE (c)-[:ABOUT]->(s)
WITH c, s, c.status AS old_status, c.assignee AS old_assignee
SET c.status = coalesce($status, c.status), c.assignee = CASE WHEN $assignee IS NULL THEN c.assignee
                                                               WHEN $assignee = '' THEN null ELSE $assignee END,
    c.updated_at = datetime()
WITH c, s, old_status, old_assignee
CALL (c, s, old_status) {
  WITH c, s, old_status
  WHERE s:Campaign AND c.status IN $decided AND c.status <> old_status
  OPTIONAL MATCH (s)-[:INCLUDES]->(member:Account)
  WITH c, s, collect(member.account_id) AS members
  CREATE (c)-[:DECIDED]->(:Decision {decision_id: randomUUID(), campaign_id: s.campaign_id, status: c.status,
                                     decided_by: $user, decided_at: datetime(), run_id: s.last_run, score: s.score,
                                     size: s.size, requests: s.requests, evidence: s.evidence,
                                     contributions: s.contributions, account_ids: members})
}
RETURN old_status, old_assignee, c.status AS status, c.assignee AS assignee
