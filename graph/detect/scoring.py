"""Campaign scoring: evidence features, calibrated on the graph being scored, and a 0–100 score.

Each cluster gets measurements that are large when one operator runs the accounts: shared cards and devices,
proxy exits, address rotation, one rented address block, shared prompt templates and wrappers, rewording,
reasoning elicitation, one capability, synchronised hours, shifts, creation bursts, referral chains, even
volume (and, wired by the caller, model-release pivots). Each comes with the sentence an analyst reads.

No feature has a hand-picked weight and no score has a hand-picked threshold. Instead (docs/detection.md,
"Scoring"):

0. **Size.** Each value is first pulled towards the mean of all clusters by empirical Bayes (``shrunk``):
   a measurement over three accounts says less than the same over a thousand.
1. **Rarity in this graph.** A measurement's evidence is how rare it is among the clusters of the same run:
   ``p = (clusters with at least this value + m·(1 − value)) / (N + m)``, the upper-tail share with a prior
   of ``m`` pseudo-clusters spread evenly over [0, 1] (``ScoringParams.prior_clusters``), so that a graph
   with three clusters does not call its most unusual one a one-in-three event and a large graph speaks for
   itself. Campaigns are assumed to be a small minority of clusters (they are: 8 of 386 in the demo world).
   Surprise = −ln p; a value nobody reaches scores ln((N + m)/1).
2. **Lines of evidence.** Measurements of one mechanism (cards and devices; proxies, rotation and rented
   blocks; templates and rewording; ...) are one *line*: its evidence is the best measurement's, corrected
   for picking the best of k (Bonferroni: −ln min(1, k·p_min)). Lines add up; evidence that the group is one
   honest organisation (one org name behind one office address with varied usage) is subtracted.
3. **How often by chance.** If the lines were independent, the sum's distribution over clusters would be
   the convolution of each line's distribution (the observed one, mixed with the prior's). Its upper tail at
   a cluster's total, times the number of clusters scored, is the *expected number of clusters in this run
   with that much evidence by chance* (``expected_false``).
4. **Score and flag.** ``score = 50 + 12.5 · log10(α / expected_false)``, clipped to 0–100, where ``α``
   (``ScoringParams.expected_false_flags``, 0.05) is the expected number of honest clusters a run may flag
   by chance. A score of 50 (the flag threshold) means exactly α expected false flags; each factor of ten
   rarer adds 12.5.

Contributions are each measurement's surprise in decibans (10·log10 of the factor by which it is rarer
than a typical cluster; Turing's unit): they add up to the cluster's total evidence.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from graph import db
from graph.detect.params import ScoringParams

# Exits that hide who sends the traffic. Datacenter and hosting addresses are where honest API integrations run
# (CI, agents, backends): they count only when many members spread over one block (rented_block).
ANONYMISING_EXITS = {"residential", "tor", "public_proxy", "web_proxy"}
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
DECIBANS_PER_NAT = 10 / math.log(10)
NULL_GRID_NATS = 0.02  # resolution of the evidence distribution's convolution
BENIGN = "benign_organization"

# feature -> its line of evidence (one mechanism each)
LINES = {
    "shared_payment": "identity", "shared_devices": "identity",
    "proxy_exits": "egress", "ip_rotation": "egress", "rented_block": "egress",
    "shared_templates": "content", "paraphrase_rotation": "content",
    "reasoning_elicitation": "tasks", "capability_focus": "tasks",
    "synchronization": "timing", "shift_hours": "timing",
    "creation_burst": "origin", "referral_chain": "origin",
    "load_balancing": "volume",
    "model_pivot": "pivot",
}


@dataclass(frozen=True)
class Feature:
    name: str
    value: float  # 0..1: larger is more like one operator (for benign_organization: like one honest organisation)
    sentence: str


@dataclass
class ClusterScore:
    cluster: str
    members: list[str]
    accounting: dict
    features: list[Feature]
    surprise: dict[str, float] = field(default_factory=dict)   # feature -> −ln(rarity among clusters)
    rarity: dict[str, float] = field(default_factory=dict)     # feature -> p, smoothed share of clusters as high
    lines: dict[str, float] = field(default_factory=dict)      # line -> evidence (nats), Bonferroni-corrected
    evidence_nats: float = 0.0
    expected_false: float = math.inf
    reference_clusters: int = 0
    score: float = 0.0
    # out-of-fold probability from a model fitted on the graph's labels, and its sentence (graph/detect/learned.py)
    learned_probability: float | None = None
    learned_sentence: str = ""

    @property
    def evidence(self) -> list[str]:
        """Sentences of the measurements that count, strongest first; then how rare the whole is; then the
        accounting line."""
        counted = sorted((f for f in self.features
                          if f.value > 0 and self.surprise.get(f.name, 0.0) * DECIBANS_PER_NAT >= 3.0),
                         key=lambda f: -self.surprise[f.name])
        lines = []
        for f in counted:
            share = self.rarity[f.name]
            rare = (f"rarer than {1 - share:.0%} of the {self.reference_clusters:,} clusters" if f.name != BENIGN
                    else f"as organisation-like as only {share:.0%} of the clusters")
            lines.append(f"{f.sentence} ({rare})")
        if self.reference_clusters:
            lines.append(f"together: about {_chance(self.expected_false)} of the {self.reference_clusters:,} clusters "
                         f"would show this much evidence by chance")
        if self.learned_sentence:
            lines.append(self.learned_sentence)
        lines.append(self.accounting["summary"])
        return lines

    def contributions(self) -> dict[str, float]:
        """Each measurement's evidence in decibans (benign organisation negative)."""
        return {f.name: round((-1 if f.name == BENIGN else 1) * self.surprise.get(f.name, 0.0) * DECIBANS_PER_NAT, 1)
                for f in self.features}

    def feature(self, name: str) -> Feature | None:
        return next((f for f in self.features if f.name == name), None)


def _chance(expected: float) -> str:
    if expected >= 0.1:
        return f"{expected:,.1f}"
    return f"1 in {1 / expected:,.0f}" if expected > 0 else "none"


def score_clusters(clusters: dict[str, list[str]], params: ScoringParams | None = None,
                   extra: dict[str, dict[str, Feature]] | None = None) -> list[ClusterScore]:
    """Score each cluster (key -> member account ids) from the graph's facts; highest score first.

    ``extra``: more measurements per cluster key (e.g. model-release pivots), calibrated like the others.
    """
    params = params or ScoringParams()
    rows = [row for batch in _batches(clusters) for row in db.run("detect/cluster_facts", clusters=batch)]
    scores = []
    for r in rows:
        r = dict(r, members=clusters[r["cluster"]])
        measured = features(r) + list((extra or {}).get(r["cluster"], {}).values())
        scores.append(ClusterScore(r["cluster"], sorted(clusters[r["cluster"]]), accounting(r), measured))
    calibrate(scores, params)
    return sorted(scores, key=lambda s: (-s.score, -s.evidence_nats, -len(s.members), s.cluster))


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


# ---- calibration ------------------------------------------------------------------------------------------

def rarity(values: np.ndarray, prior_clusters: int) -> np.ndarray:
    """Smoothed upper-tail share of each value among ``values`` (its own included), with a prior of
    ``prior_clusters`` pseudo-clusters uniform on [0, 1]: 1 for the commonest-lowest value 0."""
    x = np.clip(values, 0.0, 1.0)
    ordered = np.sort(x)
    at_least = len(x) - np.searchsorted(ordered, x, side="left")
    return np.minimum(1.0, (at_least + prior_clusters * (1.0 - x)) / (len(x) + prior_clusters))


def shrunk(values: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Each cluster's measurement pulled towards the mean of all clusters by how little its size can show:
    ``(n·x + k·mean) / (n + k)`` (empirical Bayes). A measurement averaged over n members varies by chance at
    most like a proportion of n members, ``mean·(1 − mean)/n``; whatever variance between clusters exceeds
    that is real, and ``k`` is the prior strength that variance implies (beta distribution: variance =
    mean·(1 − mean)/(k + 1)). Three accounts that all send one template are then less remarkable than a
    thousand that mostly do; large clusters keep their values. Values under the mean are left as they are."""
    x = np.clip(values, 0.0, 1.0)
    mean = float(np.average(x, weights=sizes))
    spread = mean * (1.0 - mean)
    if len(x) < 2 or spread <= 0.0:
        return x
    between = float(np.average((x - mean) ** 2, weights=sizes)) - float(np.average(spread / sizes, weights=sizes))
    if between <= 0.0:
        return np.minimum(x, mean)
    k = max(0.0, spread / between - 1.0)
    # only high values are discounted: a low value is no evidence either way, and must not gain rarity
    return np.minimum(x, (sizes * x + k * mean) / (sizes + k))


def _line_prior_tail(t: np.ndarray, k: int) -> np.ndarray:
    """P(line evidence >= t) under the prior: the Bonferroni-corrected best of k uniform p-values."""
    return np.where(t <= 0, 1.0, 1.0 - (1.0 - np.exp(-t) / k) ** k)


def calibrate(scores: list[ClusterScore], params: ScoringParams) -> None:
    """Fill in surprise, line evidence, expected false flags and the score of every cluster (module docstring)."""
    n = len(scores)
    if not n:
        return
    m = params.prior_clusters
    names = sorted({f.name for s in scores for f in s.features})
    value = {name: np.array([(s.feature(name).value if s.feature(name) else 0.0) for s in scores]) for name in names}
    sizes = np.array([max(1, len(s.members)) for s in scores], dtype=float)
    p = {name: rarity(shrunk(value[name], sizes), m) for name in names}
    line_names = sorted({LINES[name] for name in names if name in LINES})
    members = {line: [name for name in names if LINES.get(name) == line] for line in line_names}
    line_evidence = {}
    for line, fs in members.items():
        best = np.min(np.vstack([p[f] for f in fs]), axis=0)
        line_evidence[line] = -np.log(np.minimum(1.0, len(fs) * best))
    benign = -np.log(p[BENIGN]) if BENIGN in p else np.zeros(n)
    total = np.maximum(0.0, sum(line_evidence.values(), np.zeros(n)) - benign)
    tail = _null_tail(line_evidence, members, n, m)
    chance = tail(total)
    for i, s in enumerate(scores):
        s.rarity = {name: float(p[name][i]) for name in names}
        s.surprise = {name: float(-math.log(p[name][i])) for name in names}
        s.lines = {line: round(float(e[i]), 3) for line, e in line_evidence.items()}
        s.evidence_nats = round(float(total[i]), 3)
        s.reference_clusters = n
        s.expected_false = float(n * chance[i])
        s.score = params.score_for(s.expected_false)


def _null_tail(line_evidence: dict[str, np.ndarray], members: dict[str, list[str]], n: int, m: int):
    """P(sum of line evidence >= t) if the lines were independent, each distributed as observed over the
    clusters mixed with the prior (weights n and m)."""
    top = sum(float(e.max()) for e in line_evidence.values()) + 20.0
    bins = int(math.ceil(top / NULL_GRID_NATS)) + 1
    edges = np.arange(bins + 1) * NULL_GRID_NATS
    pmf = np.zeros(bins)
    pmf[0] = 1.0
    for line, e in line_evidence.items():
        observed = np.bincount(np.minimum(np.round(e / NULL_GRID_NATS).astype(int), bins - 1), minlength=bins) / n
        survival = _line_prior_tail(edges, len(members[line]))
        prior = survival[:-1] - survival[1:]
        prior[-1] += survival[-1]
        mixed = (n * observed + m * prior) / (n + m)
        full = np.convolve(pmf, mixed)
        pmf = full[:bins]
        pmf[-1] += full[bins:].sum()  # beyond the grid: kept in its last bin, so the total stays 1
    survival = pmf[::-1].cumsum()[::-1]

    def tail(t: np.ndarray) -> np.ndarray:
        return survival[np.minimum(np.round(np.asarray(t) / NULL_GRID_NATS).astype(int), bins - 1)]
    return tail


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


def _s(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def features(facts: dict) -> list[Feature]:
    templates = shared_templates(facts)
    return [shared_payment(facts), shared_devices(facts), proxy_exits(facts), ip_rotation(facts),
            rented_block(facts), templates, paraphrase_rotation(facts), reasoning_elicitation(facts),
            capability_focus(facts), load_balancing(facts), creation_burst(facts), referral_chain(facts),
            synchronization(facts), shift_hours(facts), benign_organization(facts, template_share=templates.value)]


def shared_payment(facts: dict) -> Feature:
    accounts, cards, on_shared = facts["accounts"], facts["payment_methods"], facts["accounts_on_shared_cards"]
    value = _share(on_shared, accounts)
    return Feature("shared_payment", value,
                   f"{accounts:,} accounts use {_s(cards, 'payment method')}; "
                   f"{value:.0%} of them pay with a card another member also uses")


def shared_devices(facts: dict) -> Feature:
    """Share of members on a device, phone, API key or e-mail identifier another member also uses."""
    value = _share(facts.get("accounts_on_shared_hard") or 0, facts["accounts"])
    return Feature("shared_devices", value,
                   f"{value:.0%} of the accounts use a device, phone or API key another member also uses")


def proxy_exits(facts: dict) -> Feature:
    """Share of requests through anonymising exits (residential proxies, Tor, public and web proxies): over
    all requests by proxy network (rotating residential pools escape any top-k IP list), and over the top IPs
    by address type; the larger of the two. A consumer VPN counts half: many honest people use one."""
    def proxied(usage) -> tuple[float, float]:
        by_type = Counter()
        for row in usage:
            by_type[row["proxy_type"]] += row["n"]
        total = sum(n for t, n in by_type.items() if t in ANONYMISING_EXITS) + 0.5 * by_type["vpn"]
        return total, by_type["residential"]

    network, network_residential = proxied(facts["network_usage"])
    address, address_residential = proxied(facts["ip_usage"])
    address_total = sum(row["n"] for row in facts["ip_usage"])
    value = max(_share(network, facts["requests"]), _share(address, address_total))
    residential = max(_share(network_residential, facts["requests"]), _share(address_residential, address_total))
    return Feature("proxy_exits", value,
                   f"{value:.0%} of their requests leave through anonymising proxy exits ({residential:.0%} residential)")


def rented_block(facts: dict) -> Feature:
    """Members spread over many addresses of one block (IPv4 /22, IPv6 /48) that no intel marks as an
    anonymising proxy (plain, datacenter or hosting addresses): a rented block. Share of members in the busiest such block × (1 − 1 / distinct addresses there): a household or an
    office behind one NAT address gives 0, hundreds of accounts on 180 addresses of one block nearly 1."""
    top = (facts.get("top_block") or [None])[0]
    if not top or not facts["accounts"]:
        return Feature("rented_block", 0.0, "no shared address block")
    value = _share(top["users"], facts["accounts"]) * (1.0 - 1.0 / max(1, top["ips"]))
    return Feature("rented_block", value,
                   f"{top['users']:,} of the {facts['accounts']:,} accounts send from {_s(top['ips'], 'address')} "
                   f"in {top['block']}, which no intel marks as an anonymising proxy")


def _common_templates(facts: dict) -> list[dict]:
    """The template families at least a quarter of the members send (and at least 2 members)."""
    quorum = max(2, TEMPLATE_QUORUM * facts["accounts"])
    return [t for t in facts["template_usage"] if t["users"] >= quorum]


def shared_templates(facts: dict) -> Feature:
    """Share of requests on prompt templates (families: paraphrased wordings and wrapper instructions together)
    that at least a quarter of the members send (and at least 2).

    Extraction sends slot-filled variants of a few templates from every account; honest members of a group
    write their own prompts and share only popular product templates, a small part of their traffic."""
    common = _common_templates(facts)
    value = _share(sum(t["n"] for t in common), facts["requests"])
    variants = sum(t.get("variants", 1) for t in common)
    worded = f" in {variants:,} wordings" if variants > len(common) else ""
    return Feature("shared_templates", value,
                   f"{value:.0%} of their requests use {_s(len(common), 'prompt template')}"
                   f"{worded} that at least a quarter of the accounts send")


def ip_rotation(facts: dict) -> Feature:
    """Share of requests sent by members that switch IP address constantly (rotating residential proxies:
    a new exit every few requests), at least ROTATING_IPS_PER_DAY distinct addresses per active day."""
    rotating = [m for m in facts["ip_rotation"] if m["days"] and m["ips"] >= ROTATING_IPS_PER_DAY * m["days"]]
    value = _share(sum(m["requests"] for m in rotating), facts["requests"])
    rates = sorted(m["ips"] / m["days"] for m in rotating)
    median = f" (median {rates[len(rates) // 2]:,.0f} addresses per active day)" if rates else ""
    return Feature("ip_rotation", value,
                   f"{value:.0%} of their requests come from {_s(len(rotating), 'account')} "
                   f"that rotate IP addresses{median}")


def paraphrase_rotation(facts: dict) -> Feature:
    """Share of requests on shared template families sent in PARAPHRASE_WORDINGS or more wordings."""
    reworded = [t for t in _common_templates(facts) if t.get("variants", 1) >= PARAPHRASE_WORDINGS]
    value = _share(sum(t["n"] for t in reworded), facts["requests"])
    wordings = sum(t["variants"] for t in reworded)
    return Feature("paraphrase_rotation", value,
                   f"{value:.0%} of their requests rotate {wordings:,} wordings of {_s(len(reworded), 'shared template')}"
                   " (rewording slips past exact-match filters)")


def reasoning_elicitation(facts: dict) -> Feature:
    totals = capability_totals(facts["capability_mixes"])
    share = _share(sum(totals[c] for c in ELICITATION_CAPABILITIES), sum(totals.values()))
    return Feature("reasoning_elicitation", share, f"{share:.0%} of their requests ask for step-by-step reasoning")


def capability_focus(facts: dict) -> Feature:
    """Share of traffic on the cluster's main capability: campaigns focus on one, honest groups spread."""
    totals = capability_totals(facts["capability_mixes"])
    if not totals:
        return Feature("capability_focus", 0.0, "no capability information")
    name, top = totals.most_common(1)[0]
    share = _share(top, sum(totals.values()))
    return Feature("capability_focus", share, f"{share:.0%} of their requests target one capability ({name})")


def load_balancing(facts: dict) -> Feature:
    """Operators spread volume evenly across accounts; honest volumes are heavy-tailed. 1 − coefficient of
    variation of requests per active account."""
    volumes = [v for v in facts["requests_per_account"] if v]
    if len(volumes) < 3:
        return Feature("load_balancing", 0.0, "too few active accounts to judge volume spread")
    mean = sum(volumes) / len(volumes)
    spread = math.sqrt(sum((v - mean) ** 2 for v in volumes) / len(volumes)) / mean
    return Feature("load_balancing", _clip(1.0 - spread),
                   f"requests per account are {'even' if spread < 0.4 else 'uneven'}: "
                   f"{mean:,.0f} ± {spread:.0%} per account")


def creation_burst(facts: dict) -> Feature:
    created = sorted(t for t in facts["created"] if t is not None)
    if len(created) < 3:
        return Feature("creation_burst", 0.0, "creation dates unknown")
    best, start, tightest = 0, 0, math.inf
    half = (len(created) + 1) // 2
    for end, t in enumerate(created):
        while t - created[start] > BURST_WINDOW_SECONDS:
            start += 1
        best = max(best, end - start + 1)
        if end + 1 >= half:
            tightest = min(tightest, t - created[end + 1 - half])
    value = best / len(created)
    return Feature("creation_burst", value,
                   f"{value:.0%} of the accounts were created within 48 hours (half of them within "
                   f"{_duration(tightest)})")


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.0f} {unit}"
    return f"{seconds:,.0f} seconds"


def referral_chain(facts: dict) -> Feature:
    """Share of members tied to another member by a declared relation (referral, invitation, transfer)."""
    members = set(facts.get("members") or ())
    related = {a for a, b in facts.get("relation_pairs") or () if b in members}
    value = _share(len(related), facts["accounts"])
    return Feature("referral_chain", value,
                   f"{value:.0%} of the accounts are tied to another member by a referral, invitation or transfer")


def _profiles(facts: dict) -> list[list[float]]:
    return [p for p in facts["hour_profiles"] if p and sum(p)]


def synchronization(facts: dict) -> Feature:
    """Mean correlation of each member's hour-of-day profile with the cluster's: members that rise and fall in
    the same hours. Correlation, not cosine: flat 24/7 traffic (CI, agents) has no rhythm to share and counts 0."""
    profiles = _profiles(facts)
    if len(profiles) < 3:
        return Feature("synchronization", 0.0, "too few active accounts to judge timing")
    mean = [sum(col) / len(profiles) for col in zip(*profiles)]
    similarity = sum(_correlation(p, mean) for p in profiles) / len(profiles)
    return Feature("synchronization", _clip(similarity),
                   f"their hourly activity follows one rhythm (correlation {similarity:.2f})")


def _correlation(a: list[float], b: list[float]) -> float:
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    da, db_ = [x - ma for x in a], [y - mb for y in b]
    norm = math.sqrt(sum(x * x for x in da) * sum(y * y for y in db_))
    return sum(x * y for x, y in zip(da, db_)) / norm if norm else 0.0


def shift_hours(facts: dict) -> Feature:
    """Traffic packed into few UTC hours (shifts): 1 − effective hours / 24, the effective number of hours
    being 2 to the entropy of the cluster's summed hour-of-day profile."""
    profiles = _profiles(facts)
    if len(profiles) < 3:
        return Feature("shift_hours", 0.0, "too few active accounts to judge timing")
    hours = [sum(col) for col in zip(*profiles)]
    total = sum(hours)
    entropy = -sum(h / total * math.log2(h / total) for h in hours if h)
    effective = 2 ** entropy
    return Feature("shift_hours", _clip(1.0 - effective / 24.0),
                   f"their traffic falls into an effective {effective:.0f} of 24 UTC hours")


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
    value = _clip(min(org_share, office_share, variety))
    if not org:
        return Feature(BENIGN, 0.0, "no shared organisation name")
    return Feature(BENIGN, value,
                   f"looks like one organisation: {org_share:.0%} of the accounts name {org!r}, {office_share:.0%} "
                   f"share one non-proxy office address, {template_share:.0%} of requests on shared templates")
