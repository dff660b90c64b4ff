"""Detection: account linkage, communities, campaign scoring, lineage and seeded investigation.

Flow: ``linkage.build()`` turns the identifier graph into weighted (:Account)-[:LINKED]->(:Account) edges;
``communities.detect()`` finds strongly linked groups (WCC) and communities (Leiden on GDS, Louvain in
process); ``scoring.score_clusters()`` explains and scores them; ``lineage.persist()`` stores the run with
stable campaign ids. ``pipeline.run()`` ties the steps together for the CLI.
"""
