// Disable or re-enable a user; a disabled user can neither log in nor use tokens, and its sessions end.
MATCH (u:User {name: $name})
SET u.disabled = $disabled, u.updated_at = datetime(), u.session_version = coalesce(u.session_version, 0) + 1
RETURN u.name AS name
