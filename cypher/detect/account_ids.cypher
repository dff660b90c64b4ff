// Every account id (nodes of the in-process projection, isolated accounts included).
MATCH (a:Account)
RETURN a.account_id AS account_id
