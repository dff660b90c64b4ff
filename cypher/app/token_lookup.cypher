// The live token with this id and the enabled user who owns it.
MATCH (u:User)-[:HAS_TOKEN]->(t:ApiToken {token_id: $token_id})
WHERE t.revoked = false AND coalesce(u.disabled, false) = false
RETURN t.secret_sha256 AS secret_sha256,
       u {.name, .role, .password_hash, .disabled, session_version: coalesce(u.session_version, 0)} AS user
