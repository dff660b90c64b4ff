// Every user, with how many live API tokens it has.
MATCH (u:User)
OPTIONAL MATCH (u)-[:HAS_TOKEN]->(t:ApiToken {revoked: false})
RETURN u.name AS name, u.role AS role, u.disabled AS disabled, toString(u.created_at) AS created_at, count(t) AS tokens
ORDER BY name
