// Status and assignee of every campaign case, for the dashboard (read on every request: never cached).
// The seek on the case_subject constraint's index skips account cases (a label scan would read them all).
MATCH (case:Case {subject_kind: 'campaign'})
USING INDEX case:Case(subject_kind, subject_id)
WHERE case.subject_id IS NOT NULL
RETURN case.subject_id AS campaign_id, case.status AS status, case.assignee AS assignee
