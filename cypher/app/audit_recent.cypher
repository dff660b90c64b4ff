// The newest audit events, optionally of one action and/or one user.
MATCH (e:AuditEvent)
WHERE ($action IS NULL OR e.action = $action) AND ($user IS NULL OR e.user = $user)
RETURN e.action AS action, e.user AS user, e.subject AS subject, toString(e.at) AS at, e.details AS details
ORDER BY e.at DESC
LIMIT $limit
