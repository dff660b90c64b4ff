// The newest moment the graph has evidence for: the last request of any account, else (a bundle without
// requests) the last identifier use. Detection windows (LINKWATCH_DETECT_WINDOW_DAYS) end here, so running
// again on the same data gives the same result whatever the wall clock says.
MATCH (a:Account) WHERE a.last_request IS NOT NULL
WITH max(a.last_request) AS newest
CALL (newest) {
  WITH newest WHERE newest IS NULL
  MATCH (:Account)-[r:HAS_IDENTIFIER]->() WHERE r.last_seen IS NOT NULL
  RETURN max(r.last_seen) AS linked
}
RETURN coalesce(newest, linked) AS newest
