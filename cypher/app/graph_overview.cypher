// Node counts per label, for the overview page (from the count store: no scan).
CALL db.stats.retrieve('GRAPH COUNTS') YIELD data
UNWIND data.nodes AS entry
WITH entry WHERE entry.label IS NOT NULL
RETURN entry.label AS label, entry.count AS nodes
ORDER BY label
