// The ids of a campaign's current members (compared with a decision's snapshot: who joined, who left since).
MATCH (:Campaign {campaign_id: $campaign})-[:INCLUDES]->(a:Account)
RETURN collect(a.account_id) AS account_ids
