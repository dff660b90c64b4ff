// Models seen in requests: `first_seen` is the earliest request on the model in any load (the model's first
// appearance in the data, which model-release pivots measure from). Re-loading keeps the earliest time.
UNWIND $rows AS row
MERGE (m:Model {name: row.name})
WITH m, datetime(row.first_seen) AS seen
SET m.first_seen = CASE WHEN m.first_seen IS NULL OR seen < m.first_seen THEN seen ELSE m.first_seen END
