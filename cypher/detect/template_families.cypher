// Every prompt template with the family the last detection gave it (null before the first).
MATCH (t:PromptTemplate)
RETURN t.template_id AS template_id, t.family AS family
