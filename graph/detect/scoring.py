"""Campaign scoring: the accounting investigators publish, evidence features, a 0–100 risk score.

Every feature is a value in [0, 1] times a weight in points; risk features add, benign-organization
indicators subtract, so the score is the sum of readable contributions. Each feature carries the sentence
an analyst reads ("312 accounts share 4 payment methods"). Honest look-alikes score low for stated reasons:
a company shows one organisation behind one office address with varied usage and no proxy exits; a household
is a handful of accounts (small groups are damped: one shared card between 3 people is not a campaign);
CGNAT and VPN addresses never link accounts strongly (linkage cutoffs), and a 24/7 CI user is a single
account, not a cluster.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

from graph import db
from graph.detect.params import ScoringParams

PROXY_EXITS = {"residential", "datacenter", "hosting", "tor"}
ELICITATION_CAPABILITIES = {"reasoning"}
BURST_WINDOW_SECONDS = 48 * 3600
FACTS_BATCH_ACCOUNTS = 50_000
TEMPLATE_QUORUM = 0.25  # a template is the group's when at least this share of members send it
# An account that uses at least this many distinct IP addresses per active day rotates over a proxy pool.
# Medium world (100k accounts, evasion high): honest accounts with 100+ requests median 0.6, 99.9th
# percentile 8.8; rotating operator accounts median 54; reseller fronts (a few hosting addresses) 5.6.
ROTATING_IPS_PER_DAY = 20
# A shared template family sent in at least this many wordings is paraphrase rotation (product templates
# have one wording; operators reword to slip past exact-match filters).
PARAPHRASE_WORDINGS = 5


@dataclass(frozen=True)
class Feature:
    name: str
    value: float  # 0..1
    weight: float  # points at value 1; negative for benign indicators
    sentence: str

    @property
    def points(self) -> float:
        return round(self.value * self.weight, 2)


@dataclass
class ClusterScore:
    cluster: str
    members: list[str]
    accounting: dict
    features: list[Feature]
    damping: float  # small-group factor applied to the feature sum
    score: float = field(init=False)

    def __post_init__(self):
        total = sum(f.points for f in self.features) * self.damping
        self.score = round(min(100.0, max(0.0, total)), 1)

    @property
    def evidence(self) -> list[str]:
        """Sentences of the features that moved the score, strongest first, then the accounting line."""
        moved = sorted((f for f in self.features if abs(f.points) >= 1.0), key=lambda f: -abs(f.points))
        lines = [f.sentence for f in moved]
        if self.damping < 1.0:
            lines.append(f"only {len(self.members)} accounts: score damped to {self.damping:.0%} "
                         "(households and small teams share cards and devices honestly)")
        lines.append(self.accounting["summary"])
        return lines

    def contributions(self) -> dict[str, float]:
        return {f.name: f.points for f in self.features}


def score_clusters(clusters: dict[str, list[str]], params: ScoringParams | None = None) -> list[ClusterScore]:
    """Score each cluster (key -> member account ids) from the graph's facts; highest score first."""
    params = params or ScoringParams()
    rows = [row for batch in _batches(clusters) for row in db.run("detect/cluster_facts", clusters=batch)]
    scores = [ClusterScore(r["cluster"], sorted(clusters[r["cluster"]]), accounting(r), features(r),
                           damping(r["accounts"], params)) for r in rows]
    return sorted(scores, key=lambda s: (-s.score, -len(s.members), s.cluster))


def _batches(clusters: dict[str, list[str]]):
    """The clusters in batches of about FACTS_BATCH_ACCOUNTS members: one statement per batch keeps each
    transaction's memory bounded on a million-account graph."""
    batch, size = [], 0
    for key, members in clusters.items():
        batch.append({"cluster": key, "members": members})
        size += len(members)
        if size >= FACTS_BATCH_ACCOUNTS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def damping(accounts: int, params: ScoringParams) -> float:
    """1 for groups of at least ``full_size_accounts``, less (log scale) for smaller ones."""
    if accounts >= params.full_size_accounts:
        return 1.0
    return round(math.log(max(accounts, 1)) / math.log(params.full_size_accounts), 3)


# ---- accounting -------------------------------------------------------------------------------------------

def _when(value) -> datetime | None:
    return value.to_native() if value is not None and hasattr(value, "to_native") else value


def _compact(n: float) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f}{unit}"
    return f"{n:,.0f}"


def accounting(facts: dict) -> dict:
    """Accounts, requests, tokens, first/last activity, requests per account, targeted capabilities."""
    first, last = _when(facts["first_request"]), _when(facts["last_request"])
    days = max(1, math.ceil((last - first).total_seconds() / 86400)) if first and last else 0
    capabilities = capability_totals(facts["capability_mixes"])
    total_caps = sum(capabilities.values()) or 1
    top = [(name, round(n / total_caps, 3)) for name, n in capabilities.most_common(3)]
    accounts, requests = facts["accounts"], facts["requests"]
    summary = f"{accounts:,} accounts, {_compact(requests)} requests"
    if days:
        summary += f" in {days} days ({first:%Y-%m-%d} to {last:%Y-%m-%d})"
    summary += f", {_compact(requests / accounts if accounts else 0)} per account"
    if top:
        summary += "; mostly " + ", ".join(f"{name} {share:.0%}" for name, share in top)
    return {
        "accounts": accounts,
        "requests": requests,
        "input_tokens": facts["input_tokens"],
        "output_tokens": facts["output_tokens"],
        "first_activity": first.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if first else None,
        "last_activity": last.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if last else None,
        "active_days": days,
        "requests_per_account": round(requests / accounts, 1) if accounts else 0.0,
        "capabilities": dict(top),
        "summary": summary,
    }


def capability_totals(mixes: list[dict]) -> Counter:
    totals: Counter = Counter()
    for mix in mixes:
        for name, count in zip(mix["names"] or [], mix["counts"] or []):
            totals[name] += count
    return totals


# ---- evidence features ------------------------------------------------------------------------------------

def _share(part: float, whole: float) -> float:
    return min(1.0, part / whole) if whole else 0.0


def _clip(x: float) -> float:
    return min(1.0, max(0.0, x))


def features(facts: dict) -> list[Feature]:
    templates = shared_templates(facts)
    return [shared_payment(facts), proxy_exits(facts), ip_rotation(facts), templates, paraphrase_rotation(facts),
            reasoning_elicitation(facts),
            capability_focus(facts), load_balancing(facts), creation_burst(facts), synchronization(facts),
            benign_organization(facts, template_share=templates.value)]


def shared_payment(facts: dict) -> Feature:
    accounts, cards, on_shared = facts["accounts"], facts["payment_methods"], facts["accounts_on_shared_cards"]
    value = _share(on_shared, accounts)
    return Feature("shared_payment", value, 20.0,
                   f"{accounts:,} accounts use {cards:,} payment method{'s' if cards != 1 else ''}; "
                   f"{value:.0%} of them pay with a card another member also uses")


def proxy_exits(facts: dict) -> Feature:
    """Share of requests through proxy exits: over all requests by proxy network (rotating residential pools
    escape any top-k IP list), and over the top IPs by address type (datacenter exits have no network name);
    the larger of the two. A consumer VPN counts half: many honest people use one."""
    def proxied(usage) -> tuple[float, float]:
        by_type = Counter()
        for row in usage:
            by_type[row["proxy_type"]] += row["n"]
        total = sum(n for t, n in by_type.items() if t in PROXY_EXITS) + 0.5 * by_type["vpn"]
        return total, by_type["residential"]

    network, network_residential = proxied(facts["network_usage"])
    address, address_residential = proxied(facts["ip_usage"])
    address_total = sum(row["n"] for row in facts["ip_usage"])
    value = max(_share(network, facts["requests"]), _share(address, address_total))
    residential = max(_share(network_residential, facts["requests"]), _share(address_residential, address_total))
    return Feature("proxy_exits", value, 20.0,
                   f"{value:.0%} of their requests leave through proxy exits ({residential:.0%} residential)")


def _common_templates(facts: dict) -> list[dict]:
    """The template families at least a quarter of the members send (and at least 2 members)."""
    quorum = max(2, TEMPLATE_QUORUM * facts["accounts"])
    return [t for t in facts["template_usage"] if t["users"] >= quorum]


def shared_templates(facts: dict) -> Feature:
    """Share of requests on prompt templates (families: paraphrased wordings together) that at least a quarter
    of the members send (and at least 2).

    Extraction sends slot-filled variants of a few templates from every account; honest members of a group
    write their own prompts and share only popular product templates, a small part of their traffic."""
    common = _common_templates(facts)
    value = _share(sum(t["n"] for t in common), facts["requests"])
    variants = sum(t.get("variants", 1) for t in common)
    worded = f" in {variants:,} wordings" if variants > len(common) else ""
    return Feature("shared_templates", value, 20.0,
                   f"{value:.0%} of their requests use {len(common)} prompt template{'s' if len(common) != 1 else ''}"
                   f"{worded} that at least a quarter of the accounts send")


def ip_rotation(facts: dict) -> Feature:
    """Share of requests sent by members that switch IP address constantly (rotating residential proxies:
    a new exit every few requests), at least ROTATING_IPS_PER_DAY distinct addresses per active day."""
    rotating = [m for m in facts["ip_rotation"] if m["days"] and m["ips"] >= ROTATING_IPS_PER_DAY * m["days"]]
    value = _share(sum(m["requests"] for m in rotating), facts["requests"])
    rates = sorted(m["ips"] / m["days"] for m in rotating)
    median = f" (median {rates[len(rates) // 2]:,.0f} addresses per active day)" if rates else ""
    return Feature("ip_rotation", value, 15.0,
                   f"{value:.0%} of their requests come from {len(rotating):,} account{'s' if len(rotating) != 1 else ''} "
                   f"that rotate IP addresses{median}")


def paraphrase_rotation(facts: dict) -> Feature:
    """Share of requests on shared template families sent in PARAPHRASE_WORDINGS or more wordings."""
    reworded = [t for t in _common_templates(facts) if t.get("variants", 1) >= PARAPHRASE_WORDINGS]
    value = _share(sum(t["n"] for t in reworded), facts["requests"])
    wordings = sum(t["variants"] for t in reworded)
    return Feature("paraphrase_rotation", value, 10.0,
                   f"{value:.0%} of their requests rotate {wordings:,} wordings of {len(reworded)} shared "
                   f"template{'s' if len(reworded) != 1 else ''} (rewording slips past exact-match filters)")


def reasoning_elicitation(facts: dict) -> Feature:
    totals = capability_totals(facts["capability_mixes"])
    share = _share(sum(totals[c] for c in ELICITATION_CAPABILITIES), sum(totals.values()))
    # honest traffic asks for reasoning about 5 % of the time; 35 % and more counts fully
    return Feature("reasoning_elicitation", _clip((share - 0.05) / 0.30), 10.0,
                   f"{share:.0%} of their requests ask for step-by-step reasoning")


def capability_focus(facts: dict) -> Feature:
    """Honest groups rarely put more than 30 % of traffic on one capability; campaigns focus on one."""
    totals = capability_totals(facts["capability_mixes"])
    if not totals:
        return Feature("capability_focus", 0.0, 5.0, "no capability information")
    name, top = totals.most_common(1)[0]
    share = _share(top, sum(totals.values()))
    return Feature("capability_focus", _clip((share - 0.3) / 0.3), 5.0,
                   f"{share:.0%} of their requests target one capability ({name})")


def load_balancing(facts: dict) -> Feature:
    """Operators spread volume evenly across accounts; honest volumes are heavy-tailed."""
    volumes = [v for v in facts["requests_per_account"] if v]
    if len(volumes) < 3:
        return Feature("load_balancing", 0.0, 10.0, "too few active accounts to judge volume spread")
    mean = sum(volumes) / len(volumes)
    spread = math.sqrt(sum((v - mean) ** 2 for v in volumes) / len(volumes)) / mean
    return Feature("load_balancing", _clip((1.0 - spread) / 0.7), 10.0,
                   f"requests per account are {'even' if spread < 0.4 else 'uneven'}: "
                   f"{mean:,.0f} ± {spread:.0%} per account")


def creation_burst(facts: dict) -> Feature:
    created = sorted(t for t in facts["created"] if t is not None)
    if len(created) < 3:
        return Feature("creation_burst", 0.0, 10.0, "creation dates unknown")
    best, start = 0, 0
    for end, t in enumerate(created):
        while t - created[start] > BURST_WINDOW_SECONDS:
            start += 1
        best = max(best, end - start + 1)
    value = best / len(created)
    return Feature("creation_burst", value, 10.0, f"{value:.0%} of the accounts were created within 48 hours")


def synchronization(facts: dict) -> Feature:
    """Mean cosine similarity of each member's hour-of-day profile to the cluster's; 0.7 and below count 0."""
    profiles = [p for p in facts["hour_profiles"] if p and sum(p)]
    if len(profiles) < 3:
        return Feature("synchronization", 0.0, 5.0, "too few active accounts to judge timing")
    mean = [sum(col) / len(profiles) for col in zip(*profiles)]
    norm_mean = math.sqrt(sum(x * x for x in mean))
    sims = [sum(a * b for a, b in zip(p, mean)) / (math.sqrt(sum(a * a for a in p)) * norm_mean) for p in profiles]
    similarity = sum(sims) / len(sims)
    return Feature("synchronization", _clip((similarity - 0.7) / 0.3), 5.0,
                   f"their hourly activity follows one rhythm (similarity {similarity:.2f})")


def benign_organization(facts: dict, template_share: float) -> Feature:
    """One organisation behind one office address with varied usage: a company, not an operator.

    All three must hold (a shell company fills in an org string too, but leaves through proxies and sends
    a few templates): the value is the weakest of org share, office-address share and usage variety.
    """
    accounts = facts["accounts"]
    orgs = Counter(facts["orgs"])
    org, org_count = orgs.most_common(1)[0] if orgs else ("", 0)
    office = max((u["users"] for u in facts["ip_usage"] if u["proxy_type"] == "none"), default=0)
    org_share, office_share, variety = _share(org_count, accounts), _share(office, accounts), 1.0 - template_share
    value = _clip(min(org_share, office_share, variety) / 0.7)
    if not org:
        return Feature("benign_organization", 0.0, -50.0, "no shared organisation name")
    verdict = "looks like one organisation" if value >= 0.5 else "only a weak sign of one honest organisation"
    return Feature("benign_organization", value, -50.0,
                   f"{verdict}: {org_share:.0%} of the accounts name {org!r}, {office_share:.0%} share one "
                   f"non-proxy office address, {template_share:.0%} of requests on shared templates")
