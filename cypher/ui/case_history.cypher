// The audit trail of one case: who changed what, when.
MATCH (e:AuditEvent {subject: $subject})
RETURN e.action AS action, e.user AS user, toString(e.at) AS at, e.details AS details
ORDER BY e.at DESC
LIMIT 100
