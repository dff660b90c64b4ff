// Which of these GDS graphs detection registered as its own (a console query cannot write the registration).
MATCH (p:GdsProjection)
WHERE p.name IN $names
RETURN p.name AS name
