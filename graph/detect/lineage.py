"""Stable campaign identities across detection runs.

A cluster found in this run continues a campaign of the previous run when they overlap enough (Jaccard, or
containment either way); pairs are matched one to one, largest overlap first. What happened to each campaign
is recorded as an event:

* ``new``       no earlier campaign overlaps it enough;
* ``unchanged`` / ``grown`` / ``shrunk``  it continues one campaign, with the same / more / fewer members;
* ``merged``    it continues one campaign and also holds most of another one (listed in ``related``);
* ``split``     most of it comes from a campaign that another cluster continues (``related``: that id);
* ``ended``     an earlier campaign nothing continues (``related``: the campaign that absorbed it, if any).
"""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

from graph.detect.params import LineageParams


@dataclass
class Succession:
    campaign_id: str
    event: str
    related: list[str] = field(default_factory=list)


@dataclass
class Lineage:
    clusters: dict[str, Succession]  # this run's cluster key -> its campaign id and event
    ended: dict[str, Succession]     # earlier campaign id -> its end


def birth_id(members) -> str:
    """A new campaign's id: a digest of its founding members (the same group always gets the same id)."""
    digest = hashlib.sha1("\n".join(sorted(members)).encode()).hexdigest()
    return f"cmp-{digest[:10]}"


def trace(current: dict[str, set[str]], previous: dict[str, set[str]], params: LineageParams | None = None) -> Lineage:
    """Match this run's clusters (key -> members) to the previous run's campaigns (id -> members)."""
    params = params or LineageParams()
    owner = {account: cid for cid, members in previous.items() for account in members}
    overlaps = {key: Counter(owner[a] for a in members if a in owner) for key, members in current.items()}

    def related(key: str, cid: str, overlap: int) -> bool:
        new, old = len(current[key]), len(previous[cid])
        return (overlap / (new + old - overlap) >= params.min_jaccard
                or overlap / old >= params.min_containment or overlap / new >= params.min_containment)

    pairs = sorted(((n, key, cid) for key, counts in overlaps.items() for cid, n in counts.items()
                    if related(key, cid, n)), key=lambda p: (-p[0], p[1], p[2]))
    continued: dict[str, str] = {}  # cluster key -> campaign id it continues
    taken: set[str] = set()
    for _, key, cid in pairs:
        if key not in continued and cid not in taken:
            continued[key], taken = cid, taken | {cid}

    clusters: dict[str, Succession] = {}
    for key, members in current.items():
        if key in continued:
            cid = continued[key]
            absorbed = sorted(other for other, n in overlaps[key].items()
                              if other != cid and other not in taken and n / len(previous[other]) >= params.min_containment)
            if absorbed:
                clusters[key] = Succession(cid, "merged", absorbed)
            else:
                size, before = len(members), len(previous[cid])
                clusters[key] = Succession(cid, "grown" if size > before else "shrunk" if size < before else "unchanged")
            continue
        source = next((cid for cid, n in overlaps[key].most_common() if n / len(members) >= params.min_containment), None)
        if source is not None and source in taken:
            clusters[key] = Succession(birth_id(members), "split", [source])
        else:
            clusters[key] = Succession(birth_id(members), "new")

    absorbed_by = {other: s.campaign_id for s in clusters.values() if s.event == "merged" for other in s.related}
    ended = {cid: Succession(cid, "ended", [absorbed_by[cid]] if cid in absorbed_by else [])
             for cid in previous if cid not in taken}
    return Lineage(clusters, ended)
