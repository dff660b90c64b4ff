// Append one audit event (details is a JSON string).
CREATE (:AuditEvent {action: $action, user: $user, at: datetime(), details: $details})
