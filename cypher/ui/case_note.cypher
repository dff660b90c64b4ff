// Add a note to the case about a campaign or an account (the case is opened if needed).
MATCH (c:Case {subject_kind: $kind, subject_id: $subject})
CREATE (c)-[:HAS_NOTE]->(:Note {text: $text, author: $author, at: datetime()})
SET c.updated_at = datetime()
RETURN c.status AS status
