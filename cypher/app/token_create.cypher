// A new API token for a user; only the SHA-256 of its secret is stored.
MATCH (u:User {name: $name})
CREATE (u)-[:HAS_TOKEN]->(t:ApiToken {token_id: $token_id, secret_sha256: $secret_sha256, label: $label,
                                      created_at: datetime(), revoked: false})
RETURN t.token_id AS token_id
