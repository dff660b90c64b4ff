"""The linkage graph: weighted account–account links built from what accounts share.

Links of every kind but the weak ones are stored as (:Account)-[:LINKED {kind, weight, strong}]->(:Account)
edges, so an investigator can ask the database why two accounts are linked. Links of the weak kinds
(``LinkageParams.weak_kinds``: shared addresses and consumer VPNs, most of all pairs) are computed again,
from the same identifiers by the same included Cypher, whenever the whole linkage is needed: the GDS
projection (``communities.project_linkage``) and the in-process engine (``communities.linkage_graph``) read
stored and weak links together, so both engines detect on the same linkage.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

from graph import cypher, db
from graph.detect import families
from graph.detect.clock import Clock
from graph.detect.params import LinkageParams


# Shared things (identifiers, networks, template families, relations) expanded per write transaction.
LINK_BATCH = 10_000


@dataclass(frozen=True)
class LinkageSummary:
    edges_by_kind: dict[str, int]  # stored links only
    weight_by_kind: dict[str, float]
    since: str | None = None  # start of the evidence window (None: all history)
    weak: dict | None = None  # query parameters of the weak links (``weak_links``)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time of each step of ``build``

    @property
    def edges(self) -> int:
        return sum(self.edges_by_kind.values())


def run_batched(name: str, **params) -> None:
    """Run a saved statement that uses CALL { … } IN TRANSACTIONS (needs an auto-commit transaction)."""
    with db.session() as session:
        session.run(cypher.query(name), params).consume()


def build(params: LinkageParams | None = None) -> LinkageSummary:
    """Replace the LINKED edges with a fresh linkage computed from the current identifier graph."""
    params = params or LinkageParams()
    clock = Clock()
    since = window_start(params.window_days)
    families.refresh(params.template_family_bits)
    clock.lap("families")
    run_batched("detect/clear_linkage")
    clock.lap("clear")
    run_batched("detect/link_accounts", batch=LINK_BATCH, **params.cypher_params(since))
    clock.lap("link")
    built = summary(since, params)
    clock.lap("summary")
    return replace(built, seconds=clock.seconds)


def weak_links(params: LinkageParams | None = None, since: str | None = None) -> dict:
    """The query parameters that compute the weak links (detect/project_linkage, detect/linkage_edges)."""
    return (params or LinkageParams()).cypher_params(since, weak=True)


def window_start(window_days: float) -> str | None:
    """The start of the evidence window: ``window_days`` before the newest activity in the graph (None: no window)."""
    if window_days <= 0:
        return None
    newest = db.run("detect/newest_activity")[0]["newest"]
    if newest is None:
        return None
    return (newest.to_native() - timedelta(days=window_days)).isoformat()


def summary(since: str | None = None, params: LinkageParams | None = None) -> LinkageSummary:
    rows = db.run("detect/linkage_summary")
    return LinkageSummary({r["kind"]: r["edges"] for r in rows}, {r["kind"]: r["weight"] for r in rows}, since,
                          weak_links(params, since))
