// Revoke every session of a user (log out everywhere): sessions carry the version they were issued with.
MATCH (u:User {name: $name})
SET u.session_version = coalesce(u.session_version, 0) + 1
RETURN u.name AS name, u.session_version AS session_version
