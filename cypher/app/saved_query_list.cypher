// A user's saved queries.
MATCH (q:SavedQuery {owner: $owner})
RETURN q.id AS id, q.title AS title, q.description AS description, q.query AS query, q.params AS params,
       q.tags AS tags, q.owner AS owner
ORDER BY q.title
