// The newest audit events, optionally of one action.
MATCH (e:AuditEvent)
WHERE $action IS NULL OR e.action = $action
RETURN e.action AS action, e.user AS user, toString(e.at) AS at, e.details AS details
ORDER BY e.at DESC
LIMIT $limit
