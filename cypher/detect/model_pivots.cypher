// Model-release pivots (graph/detect/pivots.py): per cluster and per model that first appeared in the data after
// the cluster's first request, what the members who were active on both sides of the release did with it.
// A member "had the chance" when its first request is before the model's first appearance and its last one
// after. Per chance-holder: its requests on or after the release day on any model (`post`, day granularity
// from USED_MODEL.days/counts), its requests on the new model, and the delay from the model's first appearance
// to its own first request on it. $clusters: [{cluster, members}], $window_hours: what counts as "at once".
// Each member is looked up once.
UNWIND $clusters AS c
CALL (c) {
  UNWIND c.members AS id
  MATCH (a:Account {account_id: id})
  RETURN collect(a) AS members, min(a.first_request) AS start
}
CALL (members, start) {
  MATCH (m:Model)
  WHERE start IS NOT NULL AND m.first_seen > start
  CALL (members, m) {
    UNWIND members AS a
    WITH a, m
    WHERE a.first_request < m.first_seen AND a.last_request >= m.first_seen
    OPTIONAL MATCH (a)-[new:USED_MODEL]->(m)
    CALL (a, m) {
      WITH a, toString(date(m.first_seen)) AS release_day
      MATCH (a)-[u:USED_MODEL]->(:Model)
      UNWIND range(0, size(u.days) - 1) AS i
      WITH u, i, release_day WHERE u.days[i] >= release_day
      RETURN sum(u.counts[i]) AS post
    }
    WITH post, coalesce(new.requests, 0) AS on_model,
         CASE WHEN new IS NULL THEN null
              ELSE duration.inSeconds(m.first_seen, new.first_seen).seconds / 3600.0 END AS delay
    RETURN count(*) AS holders, sum(post) AS post, sum(on_model) AS on_model,
           count(delay) AS adopters,
           sum(CASE WHEN delay <= $window_hours THEN on_model ELSE 0 END) AS moved,
           count(CASE WHEN delay <= $window_hours THEN 1 END) AS switched,
           max(CASE WHEN delay <= $window_hours THEN delay END) AS hours
  }
  RETURN collect({model: m.name, holders: holders, post: post, on_model: on_model, adopters: adopters,
                  moved: moved, switched: switched, hours: hours}) AS models
}
RETURN c.cluster AS cluster, models
