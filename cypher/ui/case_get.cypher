// The case about a campaign or an account, with its notes (newest first).
OPTIONAL MATCH (c:Case {subject_kind: $kind, subject_id: $subject})
OPTIONAL MATCH (c)-[:HAS_NOTE]->(n:Note)
WITH c, n ORDER BY n.at DESC
RETURN c {.status, .assignee, updated_at: toString(c.updated_at)} AS case,
       [x IN collect(n) | {text: x.text, author: x.author, at: toString(x.at)}] AS notes
