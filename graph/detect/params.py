"""Detection parameters with their defaults, in one place (docs/detection.md explains each).

They are plain data so a test or a benchmark can change one value without touching queries.
"""
from __future__ import annotations

from dataclasses import dataclass, field


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

    def cypher_params(self, since: str | None = None) -> dict:
        """Query parameters; ``since`` (ISO datetime or None) is the start of the evidence window."""
        return {"since": since, "kind_weight": self.kind_weight, "max_members": self.max_members,
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
    # Campaigns (and accounts) scoring at least this much are flagged.
    flag_threshold: float = 50.0
    # Clusters scoring at least this much are kept as (:Campaign) nodes and tracked across runs; the rest
    # (households, companies: thousands at 100k accounts) are reported in the run's result only.
    track_threshold: float = 20.0
    # Campaigns whose members send at least this share of requests on shared templates score each member by
    # its own share on them (cypher/detect/account_scores.cypher); others by linkage cohesion.
    signature_min_share: float = 0.2
    # Groups smaller than this are damped on a log scale (3 accounts: 37 %), see scoring.damping.
    full_size_accounts: int = 20


@dataclass(frozen=True)
class LineageParams:
    # A new cluster continues an old campaign when it holds at least this share of the old members
    # (containment) or the two overlap with at least this Jaccard index.
    min_containment: float = 0.5
    min_jaccard: float = 0.3
