"""A risk score for every account, not only for members of tracked clusters.

Campaign scores answer "is this group one operator?"; a fraud team sorting 30,000 accounts also needs an
order for the accounts that sit in no cluster. Each account gets a few measurements from the graph, all
oriented so that more is more suspicious:

* ``own_<kind>``: how many hard identifiers of each kind it uses (cards, devices, phones, e-mails, API keys):
  many cards on one account is itself a signal;
* ``shared``: its hard identifiers that other accounts use too, each weighted by how rare the sharing is,
  ``log(N / d) / log(N / 2)`` for an identifier used by ``d`` of the ``N`` accounts (1 for a pair, 0 for an
  identifier everybody uses; above the linkage supernode cutoff it counts 0);
* ``component``: the size of the group its shared hard identifiers join it to;
* ``cluster``: the campaign score of its linkage community (its own account score inside a tracked campaign,
  the cluster score otherwise): the community context, judged by what the community looks like rather than
  by its size.

Nothing is tuned to one world: each measurement becomes its upper-tail probability *in the graph being
scored* (``p`` = share of accounts with at least this value; the commonest low value, typically 0 or 1, gives
p = 1), and the pieces of evidence are combined as Fisher combines p-values: ``evidence = Σ −ln p``. ``shared``
and ``component`` measure one event (the account shares hard identifiers), so they are one piece: the stronger,
Bonferroni-corrected for taking the better of two. An account with nothing unusual scores 0; one with more
cards than 99 % of accounts gets 4.6 from that alone. ``risk`` is the share of accounts with strictly less
evidence (0 = nothing unusual, 1 = the most), ``rank`` the position (1 = riskiest).

With seeds (known-bad accounts), the personalised PageRank mass from the seeds over the linkage (the walk of
``seeded.rank``) is one more piece of evidence, its tail probability taken among the non-seed accounts;
``seeded_risk`` and ``seeded_rank`` order the combined evidence (seeds first).

Everything is set-wise: one identifier-centric read of the hard identifiers, numpy and igraph for the rest,
and batched writes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import igraph as ig
import numpy as np

from graph import db
from graph.detect.params import LinkageParams

WRITE_BATCH = 10_000
# accounts per bucket of the identifier read (the lists of one row stay at tens of thousands of entries)
READ_BUCKET_ACCOUNTS = 20_000
# a factor is named in an account's reasons when at most this share of accounts has as much of it
REASON_MAX_SHARE = 0.1


@dataclass
class AccountRisk:
    accounts: list[str]                 # every account, in the order of the arrays below
    features: dict[str, np.ndarray]     # feature name -> value per account
    surprise: dict[str, np.ndarray]     # feature name -> −ln(upper-tail probability) per account
    evidence: np.ndarray                # Σ surprise
    risk: np.ndarray                    # percentile of evidence, 0-1
    rank: np.ndarray                    # 1 = riskiest
    seeded_evidence: np.ndarray | None = None
    seeded_risk: np.ndarray | None = None
    seeded_rank: np.ndarray | None = None
    seeds: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, tuple[float, int, float | None]]:
        """account id -> (risk, rank, seeded risk or None)."""
        seeded = self.seeded_risk if self.seeded_risk is not None else [None] * len(self.accounts)
        return {a: (round(float(r), 6), int(k), None if s is None else round(float(s), 6))
                for a, r, k, s in zip(self.accounts, self.risk, self.rank, seeded)}


def hard_kinds(params: LinkageParams) -> list[str]:
    """The identifier kinds that count as hard evidence: the linkage's strong kinds that are identifiers."""
    return [k for k in params.strong_kinds if k != "relation"]


def upper_tail_surprise(values: np.ndarray, among: np.ndarray | None = None) -> np.ndarray:
    """−ln of the share of accounts (of ``among``, default all) whose value is at least each account's.

    Ties share their tail, so the commonest-lowest value (no cards shared, no cluster) gives 0 surprise, and
    a value only one account has gives ln(n).
    """
    reference = np.sort(values if among is None else values[among])
    n = len(reference)
    if n == 0:
        return np.zeros(len(values))
    at_least = n - np.searchsorted(reference, values, side="left")
    return -np.log(np.clip(at_least, 1, n) / n)


def percentile(evidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(risk, rank): the share of other accounts with strictly less evidence (0-1), and the position (1 = most).

    Rank ties are broken by position in the account list (account id order), so the order is total and stable.
    """
    n = len(evidence)
    if n == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    ordered = np.sort(evidence)
    below = np.searchsorted(ordered, evidence, side="left")
    risk = below / (n - 1) if n > 1 else np.zeros(n)
    order = np.lexsort((np.arange(n), -evidence))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(1, n + 1)
    return risk, rank


def _identifier_features(accounts: list[str], params: LinkageParams, since: str | None
                         ) -> tuple[dict[str, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """own_<kind>, shared and component from one read of the hard identifiers' members, and the sharing
    graph: (account index, shared-identifier index) per membership of a shared identifier."""
    n = len(accounts)
    index = {a: i for i, a in enumerate(accounts)}
    kinds = hard_kinds(params)
    kind_code = {k: c for c, k in enumerate(kinds)}
    # flat (account, identifier) pairs, read as a few long lists, then numpy
    buckets = max(1, n // READ_BUCKET_ACCOUNTS)
    accounts_read, identifiers_read, kinds_read = [], [], []
    for row in db.run("detect/hard_identifier_members", kinds=kinds, since=since, buckets=buckets):
        accounts_read.append(np.array([index.get(a, -1) for a in row["accounts"]], dtype=np.int64))
        identifiers_read.append(np.asarray(row["identifiers"], dtype=np.int64))
        kinds_read.append(np.full(len(row["accounts"]), kind_code[row["kind"]], dtype=np.int64))
    account_of = np.concatenate(accounts_read) if accounts_read else np.zeros(0, dtype=np.int64)
    node_of = np.concatenate(identifiers_read) if identifiers_read else np.zeros(0, dtype=np.int64)
    kind_by_pair = np.concatenate(kinds_read) if kinds_read else np.zeros(0, dtype=np.int64)
    known = account_of >= 0
    account_of, node_of, kind_by_pair = account_of[known], node_of[known], kind_by_pair[known]
    # identifiers numbered 0..m-1 in node-id order
    nodes, first, identifier_of = np.unique(node_of, return_index=True, return_inverse=True)
    kind_of = kind_by_pair[first]
    degree = np.bincount(identifier_of, minlength=len(kind_of)).astype(float)
    own = {k: np.bincount(account_of[kind_of[identifier_of] == c], minlength=n).astype(float)
           for k, c in kind_code.items()}
    cutoff = np.array([params.max_members.get(k, params.max_members["default"]) for k in kinds])
    is_shared = (degree >= 2) & (degree <= cutoff[kind_of]) if len(kind_of) else np.zeros(0, dtype=bool)
    # rarity: 1 for an identifier two accounts share, 0 for one every account uses
    rarity = np.clip(np.log(n / np.maximum(degree, 1)) / np.log(n / 2), 0, 1) if n > 2 else np.ones(len(degree))
    on_shared = is_shared[identifier_of]
    shared = np.bincount(account_of[on_shared], weights=rarity[identifier_of[on_shared]], minlength=n)
    # components over shared identifiers: accounts are vertices 0..n-1, shared identifiers n.. after them
    vertex = np.cumsum(is_shared) - 1 + n
    edges = np.column_stack([account_of[on_shared], vertex[identifier_of[on_shared]]])
    shared_identifiers = int(is_shared.sum())
    graph = ig.Graph(n=n + shared_identifiers, edges=edges.tolist())
    membership = np.asarray(graph.connected_components().membership)
    sizes = np.bincount(membership[:n], minlength=membership.max() + 1 if len(membership) else 0)
    return ({**{f"own_{k}": own[k] for k in kinds}, "shared": shared,
             "component": sizes[membership[:n]].astype(float)},
            (account_of[on_shared], vertex[identifier_of[on_shared]] - n))


def walk_from_seeds(n: int, sharing: tuple[np.ndarray, np.ndarray], seeds: np.ndarray, damping: float = 0.85,
                    iterations: int = 100, tolerance: float = 1e-10) -> np.ndarray:
    """Random walk with restart at ``seeds`` over the account–identifier graph of shared hard identifiers.

    Each step goes from an account to one of its shared identifiers (uniformly) and on to one of that
    identifier's accounts (uniformly), so a card two accounts share passes half of what reaches it to the
    other one, a card 400 share a 400th to each; with probability 1 − ``damping`` (and from accounts that share
    nothing) the walk restarts at a seed. Returns the stationary probability of each account.
    """
    accounts_of, identifiers_of = sharing
    m = int(identifiers_of.max()) + 1 if len(identifiers_of) else 0
    account_degree = np.bincount(accounts_of, minlength=n).astype(float)
    identifier_degree = np.bincount(identifiers_of, minlength=m).astype(float)
    restart = np.zeros(n)
    restart[seeds] = 1.0 / len(seeds)
    x = restart.copy()
    for _ in range(iterations):
        moving = np.where(account_degree > 0, x / np.maximum(account_degree, 1), 0.0)
        on_identifier = np.bincount(identifiers_of, weights=moving[accounts_of], minlength=m)
        arriving = np.bincount(accounts_of, weights=(on_identifier / np.maximum(identifier_degree, 1))[identifiers_of],
                               minlength=n)
        stuck = x[account_degree == 0].sum()  # accounts that share nothing: their walk restarts
        following = damping * arriving + (1 - damping + damping * stuck) * restart
        if np.abs(following - x).sum() < tolerance:
            return following
        x = following
    return x


def cluster_scores(clusters, account_scores: dict[str, tuple[str, float]]) -> dict[str, float]:
    """account -> the score of its scored cluster (``ClusterScore`` list), or its own account score when it is
    a member of a tracked campaign (``account_scores``: account -> (campaign id, score))."""
    scores = {a: c.score for c in clusters for a in c.members}
    scores.update({a: score for a, (_, score) in account_scores.items()})
    return scores


def compute(accounts: list[str], communities: dict[str, int], cluster_scores: dict[str, float],
            params: LinkageParams | None = None, since: str | None = None,
            seeds: list[str] | None = None) -> AccountRisk:
    """The risk of every account in ``accounts``.

    ``communities``: account -> community label (``Partition.communities``); ``cluster_scores``: account ->
    its campaign or cluster score (absent = 0); ``seeds``: known-bad accounts whose walk adds the seeded risk.
    """
    params = params or LinkageParams()
    accounts = list(accounts)
    if not accounts:
        empty = np.zeros(0)
        return AccountRisk([], {}, {}, empty, empty, np.zeros(0, dtype=np.int64))
    features, sharing = _identifier_features(accounts, params, since)
    labels = np.array([communities.get(a, -1 - i) for i, a in enumerate(accounts)])
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    features["community"] = counts[inverse].astype(float)  # context shown in reasons; not evidence (see below)
    features["cluster"] = np.array([cluster_scores.get(a, 0.0) for a in accounts], dtype=float)
    surprise = {name: upper_tail_surprise(features[name]) for name in features if name.startswith("own_")}
    # `shared` and `component` are two measures of one event (the account shares hard identifiers): one piece
    # of evidence, the stronger of the two with a Bonferroni correction for taking the better of two.
    surprise["sharing"] = np.maximum(np.maximum(upper_tail_surprise(features["shared"]),
                                                upper_tail_surprise(features["component"])) - np.log(2), 0.0)
    surprise["cluster"] = upper_tail_surprise(features["cluster"])
    evidence = np.sum(list(surprise.values()), axis=0)
    risk, rank = percentile(evidence)
    result = AccountRisk(accounts, features, surprise, evidence, risk, rank)
    if seeds:
        seed_set = set(seeds)
        is_seed = np.array([a in seed_set for a in accounts])
        proximity = walk_from_seeds(len(accounts), sharing, np.flatnonzero(is_seed))
        proximity[is_seed] = 0.0
        features["seed_proximity"] = proximity
        surprise["seed_proximity"] = upper_tail_surprise(proximity, among=~is_seed)
        combined = evidence + surprise["seed_proximity"]
        combined[is_seed] = np.inf  # known bad: on top
        result.seeded_evidence = combined
        result.seeded_risk, result.seeded_rank = percentile(combined)
        result.seeds = sorted(seed_set)
    return result


def reasons(result: AccountRisk, i: int) -> list[str]:
    """The pieces of evidence of account ``i`` that at most REASON_MAX_SHARE of accounts reach, strongest first."""
    threshold = -np.log(REASON_MAX_SHARE)
    found = []
    for name, values in result.surprise.items():
        s = float(values[i])
        if s < threshold - 1e-9:
            continue
        if name.startswith("own_"):
            text = f"{result.features[name][i]:.0f} {name[4:].replace('_', ' ')} identifiers of its own"
        elif name == "sharing":
            text = (f"shares hard identifiers (rarity-weighted {result.features['shared'][i]:.2f}) within a group "
                    f"of {result.features['component'][i]:.0f} accounts")
        elif name == "cluster":
            text = f"cluster score {result.features['cluster'][i]:.0f}"
        else:
            text = f"shares hard identifiers with known-bad accounts (walk probability {result.features[name][i]:.2g})"
        found.append((s, f"{text}: top {100 * np.exp(-s):.2g} % of accounts"))
    return [text for _, text in sorted(found, key=lambda x: -x[0])]


def store(result: AccountRisk, run_id: str) -> None:
    """Write risk, rank, evidence, reasons (and seeded risk) onto every account, in batches."""
    seeded = result.seeded_risk is not None
    # reasons only for the accounts that have one (a Python loop over 1M accounts would cost seconds)
    explained = set(np.flatnonzero(np.max(list(result.surprise.values()), axis=0) >= -np.log(REASON_MAX_SHARE) - 1e-9)
                    ) if result.surprise and result.accounts else set()
    for start in range(0, len(result.accounts), WRITE_BATCH):
        rows = [{
            "account_id": result.accounts[i], "risk": round(float(result.risk[i]), 6),
            "rank": int(result.rank[i]), "evidence": round(float(result.evidence[i]), 4),
            "factors": reasons(result, i) if i in explained else [],
            "seeded_risk": round(float(result.seeded_risk[i]), 6) if seeded else None,
            "seeded_rank": int(result.seeded_rank[i]) if seeded else None,
        } for i in range(start, min(start + WRITE_BATCH, len(result.accounts)))]
        db.run("detect/set_account_risk", rows=rows, run_id=run_id)
