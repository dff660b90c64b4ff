// Create or replace one of a user's saved queries (another user's query is never touched).
MERGE (q:SavedQuery {id: $id})
ON CREATE SET q.owner = $owner, q.created_at = datetime()
WITH q WHERE q.owner = $owner
SET q.title = $title, q.query = $query, q.description = $description, q.params = $params, q.tags = $tags,
    q.updated_at = datetime()
RETURN q.id AS id
