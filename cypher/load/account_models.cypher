// Per account and model: requests per active UTC day (`days`, `counts`: parallel lists, ascending), their sum
// `requests`, and the first and last request. The UTC day is the unit a load replaces, as a load's event
// aggregates replace stored ones (SET, never +=): a day this load has takes this load's count, a stored day
// it lacks is kept. So loading the same file again changes nothing, a later load of other days adds them,
// first_seen keeps the earliest and last_seen the latest time. Give a load all requests of a day.
UNWIND $rows AS row
MERGE (a:Account {account_id: row.account_id})
MERGE (m:Model {name: row.model})
MERGE (a)-[r:USED_MODEL]->(m)
WITH r, row, coalesce(r.days, []) AS old_days, coalesce(r.counts, []) AS old_counts,
     datetime(row.first_seen) AS first_seen, datetime(row.last_seen) AS last_seen
WITH r, first_seen, last_seen,
     [i IN range(0, size(old_days) - 1) WHERE NOT old_days[i] IN row.days | {day: old_days[i], n: old_counts[i]}]
     + [i IN range(0, size(row.days) - 1) | {day: row.days[i], n: row.counts[i]}] AS merged
CALL (merged) {
  UNWIND merged AS d
  WITH d ORDER BY d.day
  RETURN collect(d.day) AS days, collect(d.n) AS counts
}
SET r.days = days, r.counts = counts, r.requests = reduce(total = 0, n IN counts | total + n),
    r.first_seen = CASE WHEN r.first_seen IS NULL OR first_seen < r.first_seen THEN first_seen ELSE r.first_seen END,
    r.last_seen = CASE WHEN r.last_seen IS NULL OR last_seen > r.last_seen THEN last_seen ELSE r.last_seen END
