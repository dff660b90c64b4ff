// Drop GDS graphs a console query created.
UNWIND $names AS name
CALL gds.graph.drop(name, false) YIELD graphName
RETURN graphName AS dropped
