// Drop the membership of campaigns about to receive this run's members.
UNWIND $campaign_ids AS campaign_id
MATCH (:Campaign {campaign_id: campaign_id})-[old:INCLUDES]->(:Account)
DELETE old
