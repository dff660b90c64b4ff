"""Communities on the linkage graph, with two interchangeable engines.

* ``gds``: a native GDS projection of (:Account)-[:LINKED]- (undirected, parallel edges summed), memory
  estimated before projecting and always dropped afterwards; WCC over strong links, Leiden over weights.
* ``local``: the same edges streamed into igraph; connected components over strong links, modularity
  Leiden over weights. For users without GDS, and as a cross-check.

Both return a ``Partition``: account id -> strong component, and account id -> community.
"""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

import igraph as ig

from graph import db
from graph.detect.params import CommunityParams
from graph.errors import LinkwatchError

ENGINES = ("gds", "local")


class InsufficientMemory(LinkwatchError):
    """The projection or algorithm would not fit the Neo4j heap."""


@dataclass(frozen=True)
class Partition:
    components: dict[str, int]   # strongly linked groups (WCC over strong links)
    communities: dict[str, int]  # Leiden communities over the weighted linkage
    engine: str

    def groups(self, which: str = "communities") -> list[set[str]]:
        """The groups of a labelling as sets of account ids, largest first."""
        by_label: dict[int, set[str]] = {}
        for account, label in getattr(self, which).items():
            by_label.setdefault(label, set()).add(account)
        return sorted(by_label.values(), key=lambda g: (-len(g), min(g)))


def detect(engine: str = "gds", params: CommunityParams | None = None) -> Partition:
    """Run WCC and community detection over the current LINKED edges with the chosen engine."""
    params = params or CommunityParams()
    if engine == "gds":
        return _detect_gds(params)
    if engine == "local":
        return _detect_local(params)
    raise LinkwatchError(f"unknown detection engine {engine!r}; choose one of {', '.join(ENGINES)}")


# ---- GDS engine -------------------------------------------------------------------------------------------

LINKAGE_PROJECTION = {
    "LINKED": {
        "orientation": "UNDIRECTED",
        "aggregation": "SINGLE",
        "properties": {
            "weight": {"property": "weight", "aggregation": "SUM", "defaultValue": 0.0},
            "strong": {"property": "strong", "aggregation": "MAX", "defaultValue": 0.0},
        },
    }
}


def _check_memory(bytes_needed: int, what: str) -> None:
    available = db.run("detect/available_heap")[0]["bytes"]
    if bytes_needed > available:
        raise InsufficientMemory(
            f"{what} needs up to {bytes_needed / 2**20:.0f} MiB but Neo4j has {available / 2**20:.0f} MiB of heap "
            "free; raise LINKWATCH_NEO4J_HEAP or use `--engine local`")


def project_linkage(gds):
    """Project the linkage graph after checking its estimated size; the caller must drop it."""
    estimate = gds.graph.project.estimate("Account", LINKAGE_PROJECTION)
    _check_memory(estimate.bytes_max, "the linkage projection")
    name = f"linkwatch-linkage-{uuid.uuid4().hex[:12]}"
    graph, _ = gds.graph.project.native(name, "Account", LINKAGE_PROJECTION, log_progress=False)
    return graph


def node_accounts(node_ids) -> dict[int, str]:
    rows = db.run("detect/node_accounts", node_ids=[int(n) for n in node_ids])
    return {r["node_id"]: r["account_id"] for r in rows}


def _detect_gds(params: CommunityParams) -> Partition:
    gds = db.gds()
    graph = project_linkage(gds)
    try:
        leiden_config = dict(relationship_weight_property="weight", random_seed=params.seed, concurrency=1,
                             gamma=params.resolution, max_levels=params.max_levels)
        _check_memory(gds.leiden.estimate(graph, **leiden_config).bytes_max, "Leiden")
        components = gds.wcc.stream(graph, relationship_weight_property="strong", threshold=0.5,
                                    concurrency=1, log_progress=False)
        communities = gds.leiden.stream(graph, log_progress=False, **leiden_config)
    finally:
        graph.drop(fail_if_missing=False)
    accounts = node_accounts(components["nodeId"])
    return Partition(
        components={accounts[n]: int(c) for n, c in zip(components["nodeId"], components["componentId"])},
        communities={accounts[n]: int(c) for n, c in zip(communities["nodeId"], communities["communityId"])},
        engine="gds",
    )


# ---- in-process engine ------------------------------------------------------------------------------------

def linkage_graph() -> ig.Graph:
    """The linkage as an igraph graph: every account a vertex (``name``), one weighted edge per linked pair."""
    accounts = [r["account_id"] for r in db.run("detect/account_ids")]
    edges = db.run("detect/linkage_edges")
    graph = ig.Graph(n=len(accounts))
    graph.vs["name"] = accounts
    index = {account: i for i, account in enumerate(accounts)}
    graph.add_edges([(index[e["source"]], index[e["target"]]) for e in edges])
    graph.es["weight"] = [e["weight"] for e in edges]
    graph.es["strong"] = [e["strong"] for e in edges]
    return graph


def _labels(graph: ig.Graph, clustering) -> dict[str, int]:
    """Vertex name -> group label, labels numbered by each group's smallest account id (stable output)."""
    names = graph.vs["name"]
    groups = sorted(sorted(names[v] for v in members) for members in clustering)
    return {account: label for label, group in enumerate(groups) for account in group}


def leiden(graph: ig.Graph, params: CommunityParams) -> ig.VertexClustering:
    """Modularity Leiden (igraph) iterated until stable, with a private seeded random generator."""
    ig.set_random_number_generator(random.Random(params.seed))
    try:
        return graph.community_leiden(objective_function="modularity",
                                      weights="weight" if graph.ecount() else None,
                                      resolution=params.resolution, n_iterations=-1)
    finally:
        ig.set_random_number_generator(random)


def _detect_local(params: CommunityParams) -> Partition:
    graph = linkage_graph()
    strong = graph.subgraph_edges(graph.es.select(strong_gt=0.5), delete_vertices=False)
    return Partition(components=_labels(graph, strong.connected_components()),
                     communities=_labels(graph, leiden(graph, params)), engine="local")
