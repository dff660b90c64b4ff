"""Detection: account linkage, communities, campaign scoring, lineage and seeded investigation.

Flow: ``linkage.build()`` turns the identifier graph into weighted (:Account)-[:LINKED]->(:Account) edges
(every kind but the weak ones, which are computed again wherever the whole linkage is read);
``communities.detect()`` finds strongly linked groups (WCC) and communities (Leiden, on GDS or igraph in
process); ``scoring.score_clusters()`` explains and scores them; ``lineage.persist()`` stores the run with
stable campaign ids. ``pipeline.run()`` ties the steps together for the CLI.
"""
