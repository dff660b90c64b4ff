// The linkage as one weighted undirected edge per account pair (for the in-process engine): stored and weak
// links together (detect/_linkage_rows), weights of a pair's links added up; the pair is strong when any of
// its links is, stored when any of them is stored; one row of lists (graph.db.columns).
// Parameters: those of detect/link_accounts, with $weak true.
// include: detect/_linkage_rows
WITH CASE WHEN one.account_id < other.account_id THEN [one.account_id, other.account_id]
          ELSE [other.account_id, one.account_id] END AS pair, weight, strong, stored
WITH pair[0] AS source, pair[1] AS target, sum(weight) AS weight, max(strong) AS strong, max(stored) AS stored
RETURN collect(source) AS source, collect(target) AS target, collect(weight) AS weight, collect(strong) AS strong,
       collect(stored) AS stored

