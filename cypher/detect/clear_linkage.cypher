// Remove the LINKED edges of the previous detection run (they are rebuilt from the identifier graph every run).
MATCH (:Account)-[link:LINKED]->(:Account)
CALL (link) { DELETE link } IN TRANSACTIONS OF 20000 ROWS
