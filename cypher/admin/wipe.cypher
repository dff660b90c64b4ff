// Delete everything in the database, in batches so a large graph does not exhaust the heap.
MATCH (n)
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS
