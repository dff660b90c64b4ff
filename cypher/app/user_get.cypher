// One user by name, with its role and state.
MATCH (u:User {name: $name})
RETURN u {.name, .role, .password_hash, .disabled, .created_at} AS user
