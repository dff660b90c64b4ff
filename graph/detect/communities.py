"""Communities on the linkage graph, with two interchangeable engines.

* ``gds``: the whole linkage projected by a Cypher aggregation (stored LINKED edges plus the weak links
  computed on the way, never written: ``project_linkage``), one undirected relationship per pair with the
  pair's summed weight; WCC over strong links, Leiden over weights; the pairs are then read into arrays
  (two property streams of the in-memory graph) and the graph dropped.
* ``local``: the same pairs streamed into igraph; connected components over strong links, modularity
  Leiden over weights. For users without GDS, and as a cross-check.

Every bulk read comes back as lists, not rows (``graph.db.columns``). Both then refine the large
communities on their own linkage (``refine``): modularity over 100k accounts merges groups that a few
weak links join (its resolution limit grows with the graph), so each large community that has a stored
(non-weak) link inside is split again by Leiden on its induced subgraph, read from the pairs already in
memory, and a piece leaves it only when the piece is loosely attached (``separate``). Both return a
``Partition``: account id -> strong component, account id -> community, and
each account's cohesion (share of its linkage weight inside its community).
"""
from __future__ import annotations

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable

import igraph as ig
import numpy as np

from graph import db
from graph.detect import linkage
from graph.detect.clock import Clock
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
    # per linked account, the share of its linkage weight inside its community (cypher/detect/account_scores)
    cohesion: dict[str, float] = field(default_factory=dict)
    links: int = 0  # account pairs of the linkage (stored and weak)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time of each step, in order

    def groups(self, which: str = "communities") -> list[set[str]]:
        """The groups of a labelling as sets of account ids, largest first."""
        by_label: dict[int, set[str]] = {}
        for account, label in getattr(self, which).items():
            by_label.setdefault(label, set()).add(account)
        return sorted(by_label.values(), key=lambda g: (-len(g), min(g)))


def detect(engine: str = "gds", params: CommunityParams | None = None, links: dict | None = None) -> Partition:
    """Run WCC and community detection over the linkage with the chosen engine. ``links``: the query
    parameters of its weak links (``linkage.weak_links``; by default those of the default parameters)."""
    params = params or CommunityParams()
    if engine == "gds":
        return _detect_gds(params, links)
    if engine == "local":
        return _detect_local(params, links)
    raise LinkwatchError(f"unknown detection engine {engine!r}; choose one of {', '.join(ENGINES)}")


# ---- refinement (both engines) -----------------------------------------------------------------------------

Edge = tuple[str, str, float]  # account, account, summed linkage weight


def separate(members: Iterable[str], edges: Iterable[Edge], parts: list[list[str]],
             max_conductance: float, ties: Iterable[Iterable[str]] = ()) -> list[list[str]]:
    """Split a group along the pieces a community detection found inside it, keeping only loose boundaries.

    A piece becomes a group of its own when its conductance inside the group — the weight of its links to
    the rest over the smaller of the two volumes (sums of linkage weight) — is below ``max_conductance``:
    a household hanging on one shared proxy exit, or a second campaign joined only by exits both operators
    rent. The other pieces stay together, one group per connected component of what remains, so pieces of one
    operator's card and device pools are not torn apart. Groups come back sorted, largest first.

    ``ties``: sets of members that are one piece whatever the community detection found — the senders of a
    template family nobody outside the group sends (``group_ties``). An operator's own accounts and the fronts
    it bought from a reseller have separate card and device pools, and only their prompts tie them; that tie
    is light next to each pool's weight, but no one else has it, so it is not a boundary to cut along.
    """
    part_of = {account: i for i, part in enumerate(parts) for account in part}
    members = sorted(members)
    for account in members:  # accounts without links inside the group are pieces of their own
        part_of.setdefault(account, len(parts) + len(part_of))
    part_of = _tied(part_of, ties)
    volume, cut = defaultdict(float), defaultdict(float)
    edges = list(edges)
    for a, b, weight in edges:
        volume[part_of[a]] += weight
        volume[part_of[b]] += weight
        if part_of[a] != part_of[b]:
            cut[part_of[a]] += weight
            cut[part_of[b]] += weight
    total = sum(volume.values())

    def conductance(part: int) -> float:
        smaller = min(volume[part], total - volume[part])
        return cut[part] / smaller if smaller > 0 else 1.0

    loose = {p for p in set(part_of.values()) if conductance(p) < max_conductance}
    groups: dict[object, list[str]] = defaultdict(list)
    rest = _Components([a for a in members if part_of[a] not in loose])
    for a, b, _ in edges:
        if part_of[a] not in loose and part_of[b] not in loose:
            rest.join(a, b)
    for account in members:
        piece = part_of[account]
        groups[("loose", piece) if piece in loose else ("rest", rest.find(account))].append(account)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def _tied(part_of: dict[str, int], ties: Iterable[Iterable[str]]) -> dict[str, int]:
    """Pieces holding members of one tie become one piece (labelled by the smallest piece number)."""
    root = {piece: piece for piece in set(part_of.values())}

    def find(piece: int) -> int:
        while root[piece] != piece:
            root[piece] = root[root[piece]]
            piece = root[piece]
        return piece

    for tie in ties:
        pieces = sorted({find(part_of[a]) for a in tie if a in part_of})
        for piece in pieces[1:]:
            root[find(piece)] = pieces[0]
    return {account: find(piece) for account, piece in part_of.items()}


def group_ties(groups: list[list[str]]) -> list[list[list[str]]]:
    """For each group, the senders of every template family that nobody outside the group sends
    (``cypher/detect/group_ties.cypher``, read from the family recorded on template links)."""
    ties: list[list[list[str]]] = [[] for _ in groups]
    group_of = {account: i for i, group in enumerate(groups) for account in group}
    if group_of:
        for row in db.run("detect/group_ties", group_of=group_of):
            ties[row["group"]].append(sorted(row["senders"]))
    return ties


class _Components:
    """Union-find over account ids: the connected components of what stays after loose pieces leave."""

    def __init__(self, accounts: list[str]):
        self.parent = {a: a for a in accounts}

    def find(self, a: str) -> str:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def join(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def refine(groups: list[list[str]], split: Callable[[list[list[str]]], list[list[list[str]]]],
           params: CommunityParams) -> list[list[str]]:
    """Split the groups of at least ``refine_min_size`` accounts again, at most ``refine_depth`` times.

    ``split`` takes the groups of one round and returns each group's pieces (a community detection inside
    the group, then ``separate`` with the group's ``group_ties``); a group that comes back whole is final.
    """
    done, todo = [], [sorted(g) for g in groups]
    for _ in range(params.refine_depth):
        candidates = [g for g in todo if len(g) >= params.refine_min_size]
        done += [g for g in todo if len(g) < params.refine_min_size]
        todo = []
        for group, pieces in zip(candidates, split(candidates) if candidates else []):
            if len(pieces) == 1:
                done.append(group)
            else:
                todo += pieces
    return done + todo


def _labelled(groups: list[list[str]]) -> dict[str, int]:
    """Account id -> group label, labels numbered by each group's smallest account id (stable output)."""
    return {account: label for label, group in enumerate(sorted(sorted(g) for g in groups)) for account in group}


# ---- GDS engine -------------------------------------------------------------------------------------------

def _check_memory(bytes_needed: int, what: str) -> None:
    available = db.run("detect/available_heap")[0]["bytes"]
    if bytes_needed > available:
        raise InsufficientMemory(
            f"{what} needs up to {bytes_needed / 2**20:.0f} MiB but Neo4j has {available / 2**20:.0f} MiB of heap "
            "free; raise LINKWATCH_NEO4J_HEAP or use `--engine local`")


def projection_name(kind: str) -> str:
    """A fresh name for a GDS graph of detection's, registered in the store first: the console drops
    every GDS graph that appears while one of its queries runs unless it is registered (docs/console.md)."""
    name = f"linkwatch-{kind}-{uuid.uuid4().hex[:12]}"
    db.run("detect/register_projection", name=name)
    return name


def drop_projection(graph) -> None:
    graph.drop(fail_if_missing=False)
    db.run("detect/unregister_projection", name=graph.name())


def project_linkage(gds, links: dict | None = None):
    """Project the whole linkage: the stored LINKED edges and the weak links computed on the way
    (detect/project_linkage; ``links``: their query parameters, ``linkage.weak_links()`` by default), one
    undirected ``LINKED`` relationship per account pair with the pair's summed ``weight``, ``strong`` and
    ``stored``. The caller must drop it with ``drop_projection``."""
    name = projection_name("linkage")
    try:
        if db.run("detect/project_linkage", name=name, **(links or linkage.weak_links()))[0]["relationships"]:
            db.run("detect/undirected_linkage", name=name)
        return gds.graph.get(name)
    except BaseException:
        if gds.graph.exists(name)["exists"]:
            gds.graph.get(name).drop(fail_if_missing=False)
        db.run("detect/unregister_projection", name=name)
        raise


def _leiden_config(params: CommunityParams, gamma: float | None = None) -> dict:
    """Leiden's configuration (GDS names): one thread and a fixed seed, so runs repeat exactly."""
    return {"relationshipWeightProperty": "weight", "randomSeed": params.seed, "concurrency": 1,
            "gamma": params.resolution if gamma is None else gamma, "maxLevels": params.max_levels,
            "logProgress": False}


class _Links:
    """Linked pairs as arrays (one row per account pair): account indexes, summed weight, and whether the pair
    has a stored (non-weak) link. Both engines hold the whole linkage here: refinement and cohesion read it."""

    def __init__(self, accounts: list[str], one, other, weight, stored):
        self.accounts = accounts
        self.index = {account: i for i, account in enumerate(accounts)}
        self.one, self.other = np.asarray(one, dtype=np.int64), np.asarray(other, dtype=np.int64)
        self.weight, self.stored = np.asarray(weight, dtype=float), np.asarray(stored, dtype=float)

    def __len__(self) -> int:
        return len(self.one)

    def _labels(self, groups: list[list[str]]) -> np.ndarray:
        label = np.full(len(self.accounts), -1, dtype=np.int64)
        for i, group in enumerate(groups):
            label[[self.index[a] for a in group]] = i
        return label

    def inside(self, groups: list[list[str]]) -> dict[int, list[Edge]]:
        """Per group number, the links between its members, for the groups where any of them is stored (a
        group held together by weak links alone, shared addresses, cannot hold a campaign: not refined)."""
        label = self._labels(groups)
        g1, g2 = label[self.one], label[self.other]
        keep = np.flatnonzero((g1 >= 0) & (g1 == g2))
        with_stored = set(np.unique(g1[keep][self.stored[keep] > 0]).tolist())
        out: dict[int, list[Edge]] = defaultdict(list)
        names = self.accounts
        for row in keep[np.argsort(g1[keep], kind="stable")]:
            if int(g1[row]) in with_stored:
                out[int(g1[row])].append((names[self.one[row]], names[self.other[row]], float(self.weight[row])))
        return dict(out)

    def cohesion(self, communities: dict[str, int]) -> dict[str, float]:
        """Per linked account: the share of its linkage weight that stays inside its community."""
        label = np.array([communities.get(a, -1) for a in self.accounts], dtype=np.int64)
        same = label[self.one] == label[self.other]
        total = np.bincount(self.one, self.weight, len(self.accounts)) + \
            np.bincount(self.other, self.weight, len(self.accounts))
        inside = np.bincount(self.one[same], self.weight[same], len(self.accounts)) + \
            np.bincount(self.other[same], self.weight[same], len(self.accounts))
        return {self.accounts[i]: float(inside[i] / total[i]) for i in np.flatnonzero(total > 0)}


def _gds_links(name: str, nodes: list[int], accounts: list[str]) -> _Links:
    """The whole linkage of the GDS graph ``name`` as arrays (detect/linkage_pairs, read as lists: two
    streams of the in-memory graph, every pair's weight and the pairs with a stored link); ``nodes`` and
    ``accounts``: each account's GDS node id and id."""
    node = np.asarray(nodes, dtype=np.int64)
    order = np.argsort(node)

    def index(ids: list[int]) -> np.ndarray:
        return order[np.searchsorted(node[order], np.asarray(ids, dtype=np.int64))]

    pairs = db.columns("detect/linkage_pairs", name=name, property="weight", min=0.0)
    stored = db.columns("detect/linkage_pairs", name=name, property="stored", min=0.5)
    one, other = index(pairs["one"]), index(pairs["other"])
    span = len(node)
    is_stored = np.isin(one * span + other, index(stored["one"]) * span + index(stored["other"]))
    return _Links(accounts, one, other, pairs["value"], is_stored.astype(float))


def _detect_gds(params: CommunityParams, links: dict | None) -> Partition:
    gds, clock = db.gds(), Clock()
    graph = project_linkage(gds, links)
    clock.lap("project")
    try:
        if not graph.relationship_count():  # nobody shares anything (GDS's Leiden fails on a graph without links)
            alone = {account: i for i, account in enumerate(db.columns("detect/account_ids")["account_id"])}
            return Partition(components=alone, communities=dict(alone), engine="gds")
        name = graph.name()
        _check_memory(db.run("detect/leiden_estimate", name=name, config=_leiden_config(params))[0]["bytes"],
                      "Leiden")
        components = db.columns("detect/stream_components", name=name)
        clock.lap("components")
        communities = db.columns("detect/stream_leiden", name=name, config=_leiden_config(params))
        clock.lap("leiden")
        pairs = _gds_links(name, components["node"], components["account"])
    finally:  # refinement projects its own small graphs: the whole linkage leaves the heap now
        drop_projection(graph)
    clock.lap("pairs")
    account_of = dict(zip(components["node"], components["account"]))
    found: dict[int, list[str]] = defaultdict(list)
    for node, community in zip(communities["node"], communities["label"]):
        found[community].append(account_of[node])
    labelled = _labelled(refine(list(found.values()), lambda groups: _split_gds(gds, pairs, groups, params), params))
    clock.lap("refine")
    cohesion = pairs.cohesion(labelled)
    clock.lap("cohesion")
    return Partition(components=dict(zip(components["account"], components["label"])), communities=labelled,
                     engine="gds", cohesion=cohesion, links=len(pairs), seconds=clock.seconds)


def _split_gds(gds, pairs: _Links, groups: list[list[str]], params: CommunityParams) -> list[list[list[str]]]:
    """GDS Leiden inside each group that has a stored link (the others stay whole: ``_Links.inside``), all
    groups in one projection of the groups' own links (given as parameters, not read from the store), then
    ``separate``.

    Each group's weights are divided by its total and Leiden runs with gamma = number of groups: the
    modularity of this union is then the mean of the groups' own modularities, so one run optimises every
    group as if it were alone (the groups share no links, and merging unlinked pieces never gains).
    """
    inside = pairs.inside(groups)
    group_of = {account: i for i, group in enumerate(groups) for account in group}
    parts: dict[int, list[str]] = defaultdict(list)
    if inside:
        totals = {i: total for i, links in inside.items() if (total := sum(w for _, _, w in links)) > 0}
        accounts = sorted({a for i in totals for e in inside[i] for a in e[:2]})
        index = {account: n for n, account in enumerate(accounts)}
        one, other, weight = [], [], []
        for i, total in totals.items():
            for a, b, w in inside[i]:
                one.append(index[a])
                other.append(index[b])
                weight.append(w / total)
        pieces_graph = projection_name("groups")
        db.run("detect/project_pairs", name=pieces_graph, one=one, other=other, weight=weight)
        graph = gds.graph.get(pieces_graph)
        try:
            pieces = db.columns("detect/stream_leiden", name=pieces_graph,
                                config=_leiden_config(params, params.resolution * len(totals)))
        finally:
            drop_projection(graph)
        for node, piece in zip(pieces["node"], pieces["label"]):
            parts[piece].append(accounts[node])
    pieces_of: dict[int, list[list[str]]] = defaultdict(list)
    for members in parts.values():
        pieces_of[group_of[members[0]]].append(members)
    ties = dict(zip(inside, group_ties([groups[i] for i in inside])))
    return [separate(group, inside[i], pieces_of[i], params.refine_max_conductance, ties[i]) if i in inside
            else [group] for i, group in enumerate(groups)]


# ---- in-process engine ------------------------------------------------------------------------------------

def linkage_graph(links: dict | None = None) -> ig.Graph:
    """The linkage as an igraph graph: every account a vertex (``name``), one edge per linked pair with the
    pair's summed ``weight``, ``strong`` and ``stored`` (stored and weak links: detect/linkage_edges)."""
    accounts = db.columns("detect/account_ids")["account_id"]
    edges = db.columns("detect/linkage_edges", **(links or linkage.weak_links()))
    graph = ig.Graph(n=len(accounts))
    graph.vs["name"] = accounts
    index = {account: i for i, account in enumerate(accounts)}
    graph.add_edges(list(zip(map(index.__getitem__, edges["source"]), map(index.__getitem__, edges["target"]))))
    for key in ("weight", "strong", "stored"):
        graph.es[key] = edges[key]
    return graph


def _names(graph: ig.Graph, clustering) -> list[list[str]]:
    names = graph.vs["name"]
    return [[names[v] for v in members] for members in clustering]


def leiden(graph: ig.Graph, params: CommunityParams) -> ig.VertexClustering:
    """Modularity Leiden (igraph) iterated until stable, with a private seeded random generator."""
    ig.set_random_number_generator(random.Random(params.seed))
    try:
        return graph.community_leiden(objective_function="modularity",
                                      weights="weight" if graph.ecount() else None,
                                      resolution=params.resolution, n_iterations=-1)
    finally:
        ig.set_random_number_generator(random)


def _split_local(graph: ig.Graph, pairs: _Links, groups: list[list[str]],
                 params: CommunityParams) -> list[list[list[str]]]:
    """Leiden (igraph) on the linkage inside each group that has a stored link, then ``separate`` with the
    group's ties; the other groups stay whole."""
    inside = pairs.inside(groups)
    ties = dict(zip(sorted(inside), group_ties([groups[i] for i in sorted(inside)])))
    pieces = []
    for i, members in enumerate(groups):
        if i not in inside:
            pieces.append([members])
            continue
        sub = graph.subgraph([pairs.index[a] for a in members])
        pieces.append(separate(members, inside[i], _names(sub, leiden(sub, params)),
                               params.refine_max_conductance, ties[i]))
    return pieces


def _detect_local(params: CommunityParams, links: dict | None) -> Partition:
    clock = Clock()
    graph = linkage_graph(links)
    ends = np.array(graph.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    pairs = _Links(graph.vs["name"], ends[:, 0], ends[:, 1], graph.es["weight"], graph.es["stored"])
    clock.lap("project")
    strong = graph.subgraph_edges(graph.es.select(strong_gt=0.5), delete_vertices=False)
    components = _labelled(_names(graph, strong.connected_components()))
    clock.lap("components")
    found = _names(graph, leiden(graph, params))
    clock.lap("leiden")
    labelled = _labelled(refine(found, lambda groups: _split_local(graph, pairs, groups, params), params))
    clock.lap("refine")
    cohesion = pairs.cohesion(labelled)
    clock.lap("cohesion")
    return Partition(components=components, communities=labelled, engine="local", cohesion=cohesion,
                     links=graph.ecount(), seconds=clock.seconds)
