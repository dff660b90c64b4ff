// Append one audit event (details is a JSON string; subject names what it is about, e.g. 'campaign:cmp-1').
CREATE (:AuditEvent {action: $action, user: $user, at: datetime(), subject: $subject, details: $details})
