// One campaign with its lineage history (its case comes from ui/case_get).
MATCH (c:Campaign {campaign_id: $campaign})
OPTIONAL MATCH (c)<-[found:FOUND]-(run:DetectionRun)
WITH c, found, run ORDER BY run.finished_at
WITH c, collect({run: run.run_id, at: toString(run.finished_at), event: found.event, related: found.related,
                 size: found.size, score: found.score}) AS history
RETURN c {.*, first_activity: toString(c.first_activity), last_activity: toString(c.last_activity)} AS campaign,
       [h IN history WHERE h.run IS NOT NULL] AS history
