// Open or update the case about a campaign or an account; returns the values before the change for the audit trail.
CALL (*) {
  MATCH (s:Campaign {campaign_id: $subject}) WHERE $kind = 'campaign' RETURN s
  UNION
  MATCH (s:Account {account_id: $subject}) WHERE $kind = 'account' RETURN s
}
MERGE (c:Case {subject_kind: $kind, subject_id: $subject})
ON CREATE SET c.created_at = datetime(), c.status = 'new'
MERGE (c)-[:ABOUT]->(s)
WITH c, c.status AS old_status, c.assignee AS old_assignee
SET c.status = coalesce($status, c.status), c.assignee = CASE WHEN $assignee IS NULL THEN c.assignee
                                                               WHEN $assignee = '' THEN null ELSE $assignee END,
    c.updated_at = datetime()
RETURN old_status, old_assignee, c.status AS status, c.assignee AS assignee
