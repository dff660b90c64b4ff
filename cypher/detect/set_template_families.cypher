// Record the family (near-duplicate group, see graph/detect/families.py) of each template in $rows.
UNWIND $rows AS row
MATCH (t:PromptTemplate {template_id: row.template_id})
SET t.family = row.family
