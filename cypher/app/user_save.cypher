// Create a user or replace its password and role.
MERGE (u:User {name: $name})
ON CREATE SET u.created_at = datetime()
SET u.password_hash = $password_hash, u.role = $role, u.disabled = false, u.updated_at = datetime()
RETURN u.name AS name
