// One campaign with its lineage history and case.
MATCH (c:Campaign {campaign_id: $campaign})
OPTIONAL MATCH (c)<-[found:FOUND]-(run:DetectionRun)
WITH c, found, run ORDER BY run.finished_at
WITH c, collect({run: run.run_id, at: toString(run.finished_at), event: found.event, related: found.related,
                 size: found.size, score: found.score}) AS history
OPTIONAL MATCH (case:Case)-[:ABOUT]->(c)
RETURN c {.*, first_activity: toString(c.first_activity), last_activity: toString(c.last_activity)} AS campaign,
       [h IN history WHERE h.run IS NOT NULL] AS history,
       case {.status, .assignee, updated_at: toString(case.updated_at)} AS case
