"""Related campaigns: clusters tied by weaker shared evidence, grouped as "possibly one operator".

Linkage joins accounts on hard identifiers; one operator can still come out as several clusters (a reseller's
front accounts have their own cards and devices, the operator's accounts theirs). What ties such clusters is
weaker: signature template families and proxy networks both use, a mailbox both declare, the same hours of
the day, accounts that moved from one to the other between runs. Each alone also happens between unrelated
honest groups, so the rule asks how rare the evidence is **in the same graph**:

1. The reference is the honest (unflagged) scored clusters of the same run. An item (signature template
   family, signature proxy network, mailbox) is *distinctive* when no two honest clusters share it: a popular
   product template or a big consumer VPN is in many honest clusters and ties nobody.
2. Shared distinctive items and moved accounts are coincidences never seen among the n honest pairs: their
   rate is the smoothed 1 / (n + 1), and a campaign pair sharing k of them gets the Poisson tail P(X ≥ k) at
   that rate — one shared item is as rare as "never seen", three are far rarer. Timing is continuous: its
   p-value is the share of honest pairs whose hour profiles are at least as similar, smoothed (k + 1) / (n + 1).
3. The kinds are combined with Fisher's method (−2 Σ ln p is χ² with 2·kinds degrees of freedom when they
   are independent) and the result is corrected for the number of campaign pairs tested (Bonferroni).
4. A pair is related when the corrected p-value is at most ``ALPHA`` (0.01): evidence this strong would appear
   by chance between honest groups less than once in a hundred such detection runs. ``strength`` is
   −log10 of the combined p-value; ``reasons`` name the kinds whose own p-value is below 0.05.

Groups are the connected components of related pairs.
"""
from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field

from graph import db

ALPHA = 0.01             # family-wise chance of tying two honest groups in one run
REASON_P = 0.05          # a kind of evidence is named as a reason when its own p-value is below this
REFERENCE_PAIRS = 20_000  # honest cluster pairs sampled as the reference (all of them when there are fewer)
QUORUM = 0.25            # a family or network is a cluster's signature when this share of members use it (as scoring)
PROFILE_BATCH_ACCOUNTS = 50_000
KINDS = ("families", "networks", "mailboxes", "moved", "hours")
COUNTED = ("families", "networks", "mailboxes", "moved")  # shared items, modelled as coincidences
ITEM_KINDS = ("families", "networks", "mailboxes")


@dataclass
class Profile:
    key: str
    size: int
    hours: list[float]
    families: frozenset
    networks: frozenset
    mailboxes: frozenset
    previous: dict = field(default_factory=dict)  # campaign id of the last run -> how many members it held
    campaign: str | None = None  # the campaign id it continues or founds (tracked clusters only)


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def poisson_tail(k: int, rate: float) -> float:
    """P(X ≥ k) for X ~ Poisson(rate), summed from k upwards (exact for the tiny rates met here)."""
    if k <= 0:
        return 1.0
    term = math.exp(-rate) * rate ** k / math.factorial(k) if k < 170 else 0.0
    total, i = term, k
    while term > total * 1e-12 and i < k + 200:
        i += 1
        term *= rate / i
        total += term
    return max(min(total, 1.0), 1e-300)


def _chi2_sf_even(x: float, dof: int) -> float:
    """Survival function of χ² with an even number of degrees of freedom (closed form)."""
    half, term, total = x / 2, 1.0, 1.0
    for i in range(1, dof // 2):
        term *= half / i
        total += term
    return min(1.0, math.exp(-half) * total)


def fisher(pvalues: list[float]) -> float:
    return _chi2_sf_even(-2 * sum(math.log(p) for p in pvalues), 2 * len(pvalues))


def _reason(kind: str, value: float, networks: set | None = None) -> str:
    if kind == "families":
        return f"{int(value)} signature template famil{'y' if value == 1 else 'ies'} in common that no honest groups share"
    if kind == "networks":
        return (f"{int(value)} proxy network{'s' if value != 1 else ''} in common that no honest groups share "
                f"({', '.join(sorted(networks or ())[:3])})")
    if kind == "mailboxes":
        return f"{int(value)} shared mailbox{'es' if value != 1 else ''} (billing or contact e-mail)"
    if kind == "moved":
        return f"{int(value)} account{'s' if value != 1 else ''} moved between them since the previous run"
    return f"synchronised hours of the day (profile cosine {value:.2f})"


def relate(profiles: list[Profile], reference: list[Profile], seed: int = 0) -> list[dict]:
    """Related pairs among ``profiles`` (the tracked campaigns), judged against pairs of ``reference`` (honest
    clusters). Returns [{a, b, reasons, strength, p_value}] with a < b (campaign ids)."""
    rng = random.Random(seed)
    n = len(reference)
    all_pairs = n * (n - 1) // 2
    if all_pairs <= REFERENCE_PAIRS:
        ref_pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    else:
        chosen = set()
        while len(chosen) < REFERENCE_PAIRS:
            i, j = rng.randrange(n), rng.randrange(n)
            if i != j:
                chosen.add((min(i, j), max(i, j)))
        ref_pairs = sorted(chosen)
    # an item (family, network, mailbox) is distinctive when no two honest clusters share it; honest pairs then
    # share none, and the rate of coincidences is the smoothed "never seen in so many pairs": 1 / (pairs + 1)
    held = {kind: Counter(x for profile in reference for x in getattr(profile, kind)) for kind in ITEM_KINDS}
    rate = 1 / (len(ref_pairs) + 1)
    hours_background = sorted(_cosine(reference[i].hours, reference[j].hours) for i, j in ref_pairs)

    def distinctive(kind: str, a: Profile, b: Profile) -> set:
        return {x for x in getattr(a, kind) & getattr(b, kind) if held[kind][x] < 2}

    def pvalue(kind: str, value: float) -> float:
        if kind in COUNTED:
            return poisson_tail(int(value), rate)
        at_least = len(hours_background) - _bisect_left(hours_background, value)
        return (at_least + 1) / (len(hours_background) + 1)

    tested = len(profiles) * (len(profiles) - 1) // 2
    related = []
    for i, a in enumerate(profiles):
        for b in profiles[i + 1:]:
            ev = {**{kind: len(distinctive(kind, a, b)) for kind in ITEM_KINDS}, "moved": _moved(a, b),
                  "hours": round(_cosine(a.hours, b.hours), 4)}
            ps = {kind: pvalue(kind, ev[kind]) for kind in KINDS}
            combined = fisher(list(ps.values()))
            if combined * tested <= ALPHA:
                first, second = sorted((a.campaign, b.campaign))
                reasons = [_reason(kind, ev[kind], distinctive(kind, a, b) if kind == "networks" else None)
                           for kind in KINDS if ps[kind] < REASON_P]
                related.append({"a": first, "b": second, "reasons": reasons,
                                "strength": round(-math.log10(max(combined, 1e-300)), 1), "p_value": combined})
    return sorted(related, key=lambda r: (-r["strength"], r["a"], r["b"]))


def _moved(a: Profile, b: Profile) -> int:
    """Members of one that belonged, in the previous run, to the campaign the other continues."""
    return a.previous.get(b.campaign, 0) + b.previous.get(a.campaign, 0)


def _bisect_left(values: list[float], x: float) -> int:
    lo, hi = 0, len(values)
    while lo < hi:
        mid = (lo + hi) // 2
        if values[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def groups(pairs: list[dict], campaigns: list[str]) -> dict[str, str]:
    """campaign id -> its group's id (the smallest campaign id of its connected component)."""
    parent = {c: c for c in campaigns}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pair in pairs:
        ra, rb = find(pair["a"]), find(pair["b"])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {c: find(c) for c in campaigns}


REFERENCE_CLUSTERS = 2_000  # honest clusters profiled at most (a seeded sample on large graphs)


def profiles(clusters: dict[str, list[str]]) -> dict[str, Profile]:
    """Profiles of clusters (key -> members), read in batches of about PROFILE_BATCH_ACCOUNTS members."""
    out: dict[str, Profile] = {}
    batch, size = [], 0
    items = list(clusters.items())
    for index, (key, members) in enumerate(items):
        batch.append({"cluster": key, "members": members})
        size += len(members)
        if size >= PROFILE_BATCH_ACCOUNTS or index == len(items) - 1:
            for row in db.run("act/cluster_profiles", clusters=batch, quorum=QUORUM):
                out[row["cluster"]] = Profile(row["cluster"], row["size"], [float(h) for h in row["hours"]],
                                              frozenset(row["families"]), frozenset(row["networks"]),
                                              frozenset(row["mailboxes"]))
            batch, size = [], 0
    return out


def link(run_id: str, scores, campaigns, previous: dict[str, set[str]], flag_threshold: float,
         seed: int = 0) -> tuple[list[dict], dict[str, str]]:
    """Detection's step: relate this run's flagged campaigns, store the ties, return (pairs, campaign -> group).

    ``scores``: every scored cluster (ClusterScore); ``campaigns``: the tracked ones as (campaign id, score);
    ``previous``: the last run's campaigns and members.
    """
    flagged = {s.cluster: cid for cid, s in campaigns if s.score >= flag_threshold}
    honest = sorted(s.cluster for s in scores if s.score < flag_threshold)
    if len(honest) > REFERENCE_CLUSTERS:
        honest = sorted(random.Random(seed).sample(honest, REFERENCE_CLUSTERS))
    members = {s.cluster: s.members for s in scores if s.cluster in flagged or s.cluster in set(honest)}
    found = profiles(members)
    owner = {account: cid for cid, accounts in previous.items() for account in accounts}
    candidates = []
    for key, cid in sorted(flagged.items(), key=lambda kv: kv[1]):
        profile = found[key]
        counts: dict[str, int] = {}
        for account in members[key]:
            if account in owner and owner[account] != cid:
                counts[owner[account]] = counts.get(owner[account], 0) + 1
        profile.previous, profile.campaign = counts, cid
        candidates.append(profile)
    pairs = relate(candidates, [found[k] for k in honest if k in found], seed)
    db.run("act/save_related", run_id=run_id,
           pairs=[{k: p[k] for k in ("a", "b", "reasons", "strength")} for p in pairs])
    return pairs, groups(pairs, sorted(flagged.values()))


def related_to(campaign_id: str) -> dict:
    """The stored ties of one campaign: {"related": [{campaign_id, reasons, strength}], "group": [ids]}."""
    rows = db.run("act/campaign_related", campaign=campaign_id)
    if not rows:
        return {"related": [], "group": []}
    related = sorted(({"campaign_id": r["campaign_id"], "reasons": list(r["reasons"] or []),
                       "strength": r["strength"]} for r in rows[0]["related"] if r),
                     key=lambda r: (-(r["strength"] or 0), r["campaign_id"]))
    return {"related": related, "group": sorted(rows[0]["group"])}
