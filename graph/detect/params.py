"""Detection parameters with their defaults, in one place (docs/detection.md explains each).

They are plain data so a test or a benchmark can change one value without touching queries.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

# the score scale: points per factor of ten in the expected number of clusters this rare by chance
SCORE_POINTS_PER_DECADE = 12.5


def _kind_weight() -> dict[str, float]:
    # What one shared thing is worth to each member: hard identifiers weigh most, a shared proxy network or
    # template is only a hint (honest VPN users share networks, honest products share templates).
    return {"payment": 3.0, "api_key": 3.0, "device": 2.0, "phone": 2.0, "email": 2.0, "relation": 1.5,
            "ip": 1.0, "shared_exit": 0.1, "proxy_network": 0.25, "vpn_network": 0.1, "template": 0.75, "default": 1.0}


def _max_members() -> dict[str, int]:
    # Supernode cutoffs: above these sizes a shared thing says nothing (CGNAT, corporate NAT, popular VPN).
    return {"payment": 5000, "api_key": 5000, "device": 500, "phone": 200, "email": 200, "ip": 200,
            "proxy_network": 5000, "vpn_network": 500, "template": 5000, "default": 200}


@dataclass(frozen=True)
class LinkageParams:
    kind_weight: dict[str, float] = field(default_factory=_kind_weight)
    max_members: dict[str, int] = field(default_factory=_max_members)
    strong_kinds: tuple[str, ...] = ("payment", "api_key", "device", "phone", "email", "relation")
    # IPs of these proxy types link as the weak kind `shared_exit`, not `ip`: unrelated customers share them.
    shared_exit_types: tuple[str, ...] = ("residential", "vpn", "tor")
    clique_max: int = 40
    ip_decay_hours: float = 72.0
    # An IP link counts fully when the address carries at least this share of both accounts' traffic.
    ip_full_share: float = 0.2
    # Templates count per family: SimHash fingerprints within this many bits are paraphrases of one template
    # (graph/detect/families.py; 0 = every fingerprint on its own). An operator rotating 40 wordings puts
    # 0.4 % of its traffic on each fingerprint but 10-30 % on each family.
    template_family_bits: int = 6
    # A family links an account when it is at least template_min_share of its requests (and template_min_requests
    # requests); the pair counts fully when both accounts put template_full_share on it, less in proportion.
    template_min_share: float = 0.05
    template_full_share: float = 0.15
    template_min_requests: int = 3
    # Only evidence last seen within this many days before the newest activity in the graph counts (0 = all
    # history). A window shows what operators do now: a fleet that moved to new cards separates from the part
    # that kept the old ones, even though the graph remembers both.
    window_days: float = 0.0
    # Kinds whose links are never stored as LINKED edges: computed again whenever a detection needs the whole
    # linkage (GDS projection, in-process engine), from the identifiers themselves. Co-use of an address or a
    # consumer VPN is the bulk of all pairs (70 % of 12.6M at 1M accounts) and never evidence on its own.
    weak_kinds: tuple[str, ...] = ("ip", "shared_exit", "vpn_network")

    def cypher_params(self, since: str | None = None, weak: bool = False) -> dict:
        """Query parameters; ``since`` (ISO datetime or None) is the start of the evidence window; ``weak``:
        the links of the weak kinds (True) or of every other kind (False)."""
        return {"since": since, "weak": weak, "weak_kinds": list(self.weak_kinds), "kind_weight": self.kind_weight, "max_members": self.max_members,
                "strong_kinds": list(self.strong_kinds), "shared_exit_types": list(self.shared_exit_types),
                "clique_max": self.clique_max,
                "ip_decay_hours": self.ip_decay_hours, "ip_full_share": self.ip_full_share,
                "template_min_share": self.template_min_share, "template_full_share": self.template_full_share,
                "template_min_requests": self.template_min_requests}


@dataclass(frozen=True)
class CommunityParams:
    seed: int = 42
    resolution: float = 1.0
    max_levels: int = 10
    # A cluster must have at least this many accounts to be scored as a possible campaign.
    min_cluster_size: int = 3
    # Refinement (communities.refine): communities of at least this many accounts are split again on their own
    # linkage, because modularity over the whole graph merges groups joined by a few weak links (its resolution
    # limit grows with the graph); a piece leaves its community only when its conductance there (linkage
    # weight to the rest over the smaller of the two volumes) is below refine_max_conductance. Measured on the
    # medium world: campaigns glued together by shared proxy exits part at 0.02-0.08, pieces of one campaign's
    # card and device pools hold together at 0.24 and more. Rounds of refinement: at most refine_depth.
    refine_min_size: int = 20
    refine_max_conductance: float = 0.15
    refine_depth: int = 3


@dataclass(frozen=True)
class ScoringParams:
    # The score is 50 + 12.5 · log10(expected_false_flags / E), E being the expected number of clusters of the
    # run with as much evidence by chance (graph/detect/scoring.py). So a campaign is flagged (score >= 50)
    # when E <= expected_false_flags: a run flags an honest cluster by chance about once in 20 runs (if the
    # lines of evidence were independent; docs/detection.md measures what happens when they are not).
    expected_false_flags: float = 0.05
    flag_threshold: float = 50.0
    # Clusters with at most this many expected by chance (score >= 33.7) are kept as (:Campaign) nodes and
    # tracked across runs; the rest (households, companies: thousands at 100k accounts) are reported in the
    # run's result only.
    track_expected_false: float = 1.0
    # Pseudo-clusters of the prior spread evenly over each measurement's range: they keep a graph with few
    # clusters from calling its most unusual one rare, and weigh nothing in a graph with thousands.
    prior_clusters: int = 10
    # Campaigns whose members send at least this share of requests on shared templates score each member by
    # its own share on them (cypher/detect/account_scores.cypher); others by linkage cohesion.
    signature_min_share: float = 0.2
    # A member of a flagged campaign is flagged when its own match with the campaign is at least this:
    # match 1 = it sends the campaign's templates like the others (or all its linkage is inside), 0.75 = half
    # of its linkage weight is inside the campaign.
    member_min_match: float = 0.75

    def score_for(self, expected_false: float) -> float:
        """The 0-100 score of a cluster with ``expected_false`` clusters expected by chance at its evidence."""
        ratio = self.expected_false_flags / max(expected_false, 1e-300)
        return round(min(100.0, max(0.0, self.flag_threshold + SCORE_POINTS_PER_DECADE * math.log10(ratio))), 1)

    @property
    def track_threshold(self) -> float:
        return self.score_for(self.track_expected_false)


@dataclass(frozen=True)
class LineageParams:
    # A new cluster continues an old campaign when it holds at least this share of the old members
    # (containment) or the two overlap with at least this Jaccard index.
    min_containment: float = 0.5
    min_jaccard: float = 0.3
