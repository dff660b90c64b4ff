// Every detection run, newest first (a report compares the newest with an earlier one).
MATCH (r:DetectionRun)
RETURN r.run_id AS run_id, r.started_at AS started_at, r.finished_at AS finished_at, r.engine AS engine,
       r.accounts AS accounts, r.linkage_edges AS linkage_edges, r.campaigns AS campaigns,
       r.flagged_campaigns AS flagged_campaigns
ORDER BY r.started_at DESC, r.run_id DESC
