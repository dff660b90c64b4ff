// Every labelled account (`labels` table: fraud or benign), for the model fitted on labels (graph/detect/learned.py).
MATCH (a:Account)
WHERE a.label IN $labels
RETURN a.account_id AS account_id, a.label AS label
