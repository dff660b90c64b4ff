// Drop every in-memory GDS graph of the current database.
CALL gds.graph.list() YIELD graphName, database
WHERE database = $database OR $database IS NULL
CALL gds.graph.drop(graphName, false) YIELD graphName AS dropped
RETURN count(dropped) AS dropped
