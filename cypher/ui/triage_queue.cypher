// The triage queue: flagged campaigns of the current detection, highest score first, each with what its latest
// run recorded as changed (lineage event, related campaigns) and its size when a run found it before, and the
// campaigns it may share an operator with.
// Case status and assignee come from ui/campaign_cases (read per request, never cached).
MATCH (c:Campaign)
WHERE c.active = true AND c.flagged = true AND c.score >= $min_score
OPTIONAL MATCH (c)<-[found:FOUND]-(run:DetectionRun)
WITH c, found, run ORDER BY run.finished_at DESC
WITH c, collect(CASE WHEN found IS NULL THEN null
                     ELSE {event: found.event, related: found.related, size: found.size, run_id: run.run_id} END)[..2]
        AS latest_two
RETURN c.campaign_id AS campaign_id, c.score AS score,
       // clusters tied to this one as "possibly one operator" (graph/act/related.py), strongest first
       [(c)-[r:RELATED_TO]-(o:Campaign) WHERE o.active = true | {campaign_id: o.campaign_id, strength: r.strength}]
         AS operator_peers, c.size AS size, c.requests AS requests,
       c.evidence[0] AS headline, c.accounting AS accounting,
       latest_two[0].event AS event, coalesce(latest_two[0].related, []) AS related,
       latest_two[0].run_id AS run_id, latest_two[1].size AS previous_size
ORDER BY score DESC, campaign_id
