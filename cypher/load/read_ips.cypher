// Every IP address in the graph (re-matched when new ip_intel arrives).
MATCH (ip:IP)
RETURN ip.value AS ip
