// How many partner indicators are stored (detection skips corroboration when there are none).
MATCH (i:PartnerIndicator)
RETURN count(i) AS indicators
