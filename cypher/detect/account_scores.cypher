// Per-account scores of one run. A community can hold honest accounts pulled in by weak links (a household
// whose home connection is also a residential-proxy exit), so each member is scored on its own match with
// the campaign's signature:
// * when the campaign's members mostly send shared templates (its share in $template_share_by_campaign is
//   at least $signature_min_share), match = the member's share of requests on those templates over half the
//   campaign's share, capped at 1 (an honest household writes its own prompts: match 0);
// * otherwise match = 0.5 + 0.5 × cohesion, the share of the member's linkage weight inside the campaign
//   ($cohesion: account id -> share, computed with the communities from the whole linkage, weak links included).
// A member is flagged when its campaign is and its match is at least $member_min_match.
// Shared templates: families (paraphrases together) sent by at least $template_quorum of the members (and at
// least 2), as in scoring.
MATCH (:DetectionRun {run_id: $run_id})-[:FOUND]->(campaign:Campaign)
CALL (campaign) {
  OPTIONAL MATCH (campaign)-[:INCLUDES]->(member:Account)-[:SENT]->(t:PromptTemplate)
  WITH coalesce(t.family, t.template_id) AS family, count(DISTINCT member) AS users
  WHERE users >= 2 AND users >= $template_quorum * campaign.size
  RETURN collect(family) AS shared
}
MATCH (campaign)-[membership:INCLUDES]->(a:Account)
CALL (a, shared) {
  OPTIONAL MATCH (a)-[s:SENT]->(t:PromptTemplate)
  WHERE coalesce(t.family, t.template_id) IN shared
  RETURN coalesce(sum(s.n), 0) AS on_shared
}
WITH a, campaign, membership, coalesce($cohesion[a.account_id], 0.0) AS cohesion,
     CASE WHEN a.requests > 0 THEN toFloat(on_shared) / a.requests ELSE 0.0 END AS template_share,
     coalesce($template_share_by_campaign[campaign.campaign_id], 0.0) AS campaign_share
WITH a, campaign, membership, cohesion, template_share,
     CASE WHEN campaign_share >= $signature_min_share
          THEN CASE WHEN template_share >= 0.5 * campaign_share THEN 1.0 ELSE template_share / (0.5 * campaign_share) END
          ELSE 0.5 + 0.5 * cohesion END AS match
SET membership.cohesion = cohesion, membership.template_share = template_share, membership.match = match,
    membership.score = round(campaign.score * match, 1),
    membership.flagged = campaign.flagged AND match >= $member_min_match
RETURN a.account_id AS account_id, campaign.campaign_id AS campaign_id, membership.score AS score,
       membership.flagged AS flagged
