// Requests per capability over the current members of each campaign (the capability mix).
UNWIND $campaign_ids AS campaign_id
MATCH (:Campaign {campaign_id: campaign_id})-[:INCLUDES]->(a:Account)
WHERE a.capabilities IS NOT NULL
UNWIND range(0, size(a.capabilities) - 1) AS i
WITH campaign_id, a.capabilities[i] AS capability, sum(a.capability_counts[i]) AS requests
RETURN campaign_id, capability, requests
ORDER BY campaign_id, requests DESC, capability
