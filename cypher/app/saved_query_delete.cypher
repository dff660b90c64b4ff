// Delete one of a user's saved queries.
MATCH (q:SavedQuery {id: $id, owner: $owner})
WITH q, q.id AS id
DELETE q
RETURN id
