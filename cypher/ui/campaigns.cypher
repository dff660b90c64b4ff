// Campaigns for the dashboard, filtered, with the lineage event of their latest run; case status and assignee
// come from ui/campaign_cases, sorting and paging happen in the app (a few thousand rows at most).
MATCH (c:Campaign)
WHERE ($active_only = false OR c.active = true)
  AND ($flagged_only = false OR c.flagged = true)
  AND c.score >= $min_score
OPTIONAL MATCH (c)<-[found:FOUND]-(run:DetectionRun)
WITH c, found ORDER BY run.finished_at DESC
WITH c, head(collect(found)) AS latest
RETURN c.campaign_id AS campaign_id, c.score AS score, c.flagged AS flagged, c.size AS size, c.active AS active,
       c.requests AS requests, toString(c.first_activity) AS first_activity, toString(c.last_activity) AS last_activity,
       c.accounting AS accounting, c.evidence[0] AS headline,
       latest.event AS lineage, latest.related AS related
