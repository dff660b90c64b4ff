// Revoke a token by id.
MATCH (:User)-[:HAS_TOKEN]->(t:ApiToken {token_id: $token_id})
SET t.revoked = true, t.revoked_at = datetime()
RETURN t.token_id AS token_id
