// IP addresses whose text starts with a prefix (a CIDR search narrows in Python with exact arithmetic).
MATCH (ip:IP) WHERE ip.value STARTS WITH $prefix
RETURN ip.value AS ip
LIMIT $limit
