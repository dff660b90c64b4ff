// One user by name, with its role, state and session version (sessions carry it; see app/auth.py).
MATCH (u:User {name: $name})
RETURN u {.name, .role, .password_hash, .disabled, .created_at, session_version: coalesce(u.session_version, 0)} AS user
