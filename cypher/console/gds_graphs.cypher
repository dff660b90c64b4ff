// The GDS in-memory graphs that exist now (before and after a console query).
CALL gds.graph.list() YIELD graphName
RETURN graphName AS name
