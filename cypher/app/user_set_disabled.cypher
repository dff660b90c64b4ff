// Disable or re-enable a user; a disabled user can neither log in nor use tokens.
MATCH (u:User {name: $name})
SET u.disabled = $disabled, u.updated_at = datetime()
RETURN u.name AS name
