"""Seeded investigation: rank accounts by linkage to known-bad accounts, with the evidence path of each.

Personalized PageRank over the weighted linkage graph, restarting at the seeds: an account scores high when
short, heavy chains of shared identifiers lead to it from the seeds (the idea behind SybilRank's short
random walks). Run after ``linkage.build()`` so the stored LINKED edges exist.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from graph import db
from graph.detect import communities
from graph.errors import LinkwatchError


class SeedFileError(LinkwatchError):
    """The seed list is missing, empty or names accounts the graph does not have."""


@dataclass(frozen=True)
class Lead:
    account_id: str
    score: float  # PageRank mass, relative to the best-ranked non-seed account (1.0)
    path: list[dict]  # hops: {from, to, shared: [...]}


def read_seeds(path: Path) -> list[str]:
    """Account ids from a file: one per line, or a CSV with an ``account_id`` column (and optional ``label``,
    where only ``fraud`` rows count, so a ``labels`` table works as is)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise SeedFileError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise SeedFileError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    if lines and "account_id" in lines[0].split(","):
        rows = list(csv.DictReader(lines))
        seeds = [r["account_id"] for r in rows if r.get("label", "fraud") == "fraud" and r["account_id"]]
    else:
        seeds = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    if not seeds:
        raise SeedFileError(f"{path}: no seed accounts (expected one account id per line or an account_id column)")
    return seeds


def proximity(seeds: list[str], engine: str = "gds", damping: float = 0.85,
              links: dict | None = None) -> dict[str, float]:
    """Personalized PageRank mass of every account, restarting at ``seeds`` (which must all be in the graph),
    over the whole linkage (``links``: the query parameters of its weak links, ``linkage.weak_links``)."""
    nodes = {r["account_id"]: r["node_id"] for r in db.run("detect/account_nodes", account_ids=seeds)}
    unknown = [s for s in seeds if s not in nodes]
    if unknown:
        raise SeedFileError(f"seed account(s) not in the graph: {', '.join(unknown[:5])}"
                            + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""))
    if engine == "gds":
        return _ppr_gds(list(nodes.values()), damping, links)
    return _ppr_local(seeds, damping, links)


def rank(seeds: list[str], engine: str = "gds", top: int = 50, damping: float = 0.85,
         scores: dict[str, float] | None = None) -> list[Lead]:
    """The ``top`` accounts most linked to ``seeds`` (seeds excluded), best first, each with its evidence path.

    ``scores``: the seeds' ``proximity`` when already computed (a detection run with seeds computes it once).
    """
    if scores is None:
        scores = proximity(seeds, engine, damping)
    seed_set = set(seeds)
    ranked = sorted(((a, s) for a, s in scores.items() if a not in seed_set and s > 0), key=lambda x: (-x[1], x[0]))
    ranked = ranked[:top]
    if not ranked:
        return []
    paths = {r["account_id"]: r["path"] for r in db.run("detect/evidence_paths", targets=[a for a, _ in ranked],
                                                        seeds=seeds)}
    best = ranked[0][1]
    return [Lead(a, round(s / best, 4), paths.get(a, [])) for a, s in ranked]


def _ppr_gds(source_nodes: list[int], damping: float, links: dict | None) -> dict[str, float]:
    gds = db.gds()
    graph = communities.project_linkage(gds, links)
    try:
        config = {"dampingFactor": damping, "sourceNodes": source_nodes, "concurrency": 1, "logProgress": False}
        if graph.relationship_count():  # without links there is no weight property to walk by
            config["relationshipWeightProperty"] = "weight"
        result = db.columns("detect/page_rank", name=graph.name(), config=config)
    finally:
        communities.drop_projection(graph)
    return dict(zip(result["account"], map(float, result["score"])))


def _ppr_local(seeds: list[str], damping: float, links: dict | None) -> dict[str, float]:
    graph = communities.linkage_graph(links)
    index = {name: i for i, name in enumerate(graph.vs["name"])}
    scores = graph.personalized_pagerank(damping=damping, weights="weight" if graph.ecount() else None,
                                         reset_vertices=[index[s] for s in seeds])
    return dict(zip(graph.vs["name"], scores))

