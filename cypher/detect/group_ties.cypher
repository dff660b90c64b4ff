// Template families that bind a group of accounts (community refinement, graph/detect/communities.py): the
// families whose every template link touching a member of the group ends at another member of the same group.
// A family's links are connected (a clique, or the expander of large families: offsets 1, 2, 4, ... around
// the ring of its senders), so such a family is sent by members of that group and by nobody else in the
// linkage. One row per such family with at least two senders.
// $group_of: account id -> group number (the groups are disjoint).
UNWIND keys($group_of) AS id
MATCH (a:Account {account_id: id})-[link:LINKED {kind: 'template'}]-(b:Account)
WHERE link.family IS NOT NULL
WITH link.family AS family, $group_of[id] AS grp, id AS sender, $group_of[b.account_id] AS reached
WITH family, collect(DISTINCT grp) AS groups, collect(DISTINCT sender) AS senders,
     sum(CASE WHEN reached = grp THEN 0 ELSE 1 END) AS leaving
WHERE leaving = 0 AND size(groups) = 1 AND size(senders) >= 2
RETURN groups[0] AS group, family, senders
ORDER BY group, family
