// Create a user or replace its password and role; either way every session it had is revoked.
MERGE (u:User {name: $name})
ON CREATE SET u.created_at = datetime()
SET u.password_hash = $password_hash, u.role = $role, u.disabled = false, u.updated_at = datetime(),
    u.session_version = coalesce(u.session_version, 0) + 1
RETURN u.name AS name
