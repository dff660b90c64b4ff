// How many LINKED edges (and how much weight) each kind of shared thing contributed.
MATCH (:Account)-[link:LINKED]->(:Account)
RETURN link.kind AS kind, count(*) AS edges, sum(link.weight) AS weight
ORDER BY kind
