// Every known network, to match IP addresses against (loaders/ipintel.py).
MATCH (n:IPNetwork)
RETURN n.cidr AS network, n.asn AS asn, n.as_org AS as_org, n.proxy_type AS proxy_type, n.proxy_network AS proxy_network
