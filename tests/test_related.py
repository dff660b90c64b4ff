"""Related campaigns: the statistics on plain data, then the demo world, where a planted operator can come out as
a front cluster and an operator cluster that must end up as one group (5 flagged clusters, 4 groups)."""
from __future__ import annotations

import csv
import json
import random
from collections import Counter

import pytest

from app import auth, create_app
from app.cli import main
from graph.act import related
from graph.act.related import Profile

from webtools import PASSWORD, bearer


def test_fisher_combination_matches_known_values():
    assert related.fisher([1.0, 1.0, 1.0]) == pytest.approx(1.0)
    assert related.fisher([0.05]) == pytest.approx(0.05)  # one p-value is its own combination
    # −2 ln(0.01 · 0.01) = 18.42 on 4 degrees of freedom: survival e^(−9.21) · (1 + 9.21) = 0.001021
    assert related.fisher([0.01, 0.01]) == pytest.approx(0.001021, abs=1e-6)


def _profile(key, families=(), networks=(), mailboxes=(), hours=None, campaign=None):
    return Profile(key, 10, hours or [1.0] * 24, frozenset(families), frozenset(networks), frozenset(mailboxes),
                   campaign=campaign)


def test_rare_shared_evidence_relates_and_common_evidence_does_not():
    rng = random.Random(3)
    # 120 honest groups: each writes its own prompts, a third use one big consumer VPN network, daytime hours
    # ...and half of them send a popular product template
    honest = [_profile(f"h{i}", families={f"own{i}"} | ({"product"} if i % 2 else set()),
                       networks={"BigVPN"} if i % 3 == 0 else set(),
                       hours=[rng.random() + (5 if 8 <= h <= 18 else 0) for h in range(24)]) for i in range(120)]
    night = [5.0 if h < 6 else 0.1 for h in range(24)]
    front = _profile("k1", families={"fam-a", "fam-b", "fam-c"}, networks={"PeerGate"}, hours=night, campaign="cmp-front")
    operator = _profile("k2", families={"fam-a", "fam-b", "fam-c", "product"}, networks={"Homenode", "BigVPN"},
                        mailboxes={"ops@x"},
                        hours=night, campaign="cmp-operator")
    # another operator renting the same reseller network as the front, but nothing else in common
    # (the product template and the big VPN it shares with the operator are in many honest groups: no tie)
    stranger = _profile("k3", families={"fam-z", "product"}, networks={"PeerGate", "BigVPN"}, campaign="cmp-other",
                        hours=[rng.random() + (5 if 8 <= h <= 18 else 0) for h in range(24)])
    pairs = related.relate([front, operator, stranger], honest)
    assert [(p["a"], p["b"]) for p in pairs] == [("cmp-front", "cmp-operator")]
    assert pairs[0]["reasons"][0] == "3 signature template families in common that no honest groups share"
    assert any("hours" in r for r in pairs[0]["reasons"])
    assert related.groups(pairs, ["cmp-front", "cmp-operator", "cmp-other"]) == {
        "cmp-front": "cmp-front", "cmp-operator": "cmp-front", "cmp-other": "cmp-other"}


def test_accounts_moving_between_campaigns_count_as_evidence():
    honest = [_profile(f"h{i}", families={f"own{i}"}) for i in range(60)]
    # one rare family in common is not enough on its own (one coincidence)...
    a = _profile("k1", families={"fam-a"}, campaign="cmp-a")
    b = _profile("k2", families={"fam-a"}, campaign="cmp-b")
    assert related.relate([a, b], honest) == []
    b.previous = {"cmp-a": 40}  # ...with 40 of b's members cmp-a's in the previous run, it is two
    pairs = related.relate([a, b], honest)
    assert [(p["a"], p["b"]) for p in pairs] == [("cmp-a", "cmp-b")]
    assert "40 accounts moved between them since the previous run" in pairs[0]["reasons"]


@pytest.fixture
def demo_detected(demo_detected):
    """The shared demo world (conftest.py), loaded and detected once: (bundle, that run's export folder)."""
    return demo_detected.bundle, demo_detected.detection


@pytest.mark.slow
def test_demo_world_flagged_clusters_are_four_operators(demo_detected, capsys):
    bundle, out = demo_detected
    truth = {r["account_id"]: r["campaign_id"] or None for r in csv.DictReader((bundle / "truth.csv").open())}
    exported = json.loads((out / "campaigns.json").read_text())
    flagged = [c for c in exported["campaigns"] if c["flagged"]]
    # a reseller's fronts and the operator's own accounts may come out as separate clusters (5 flagged clusters
    # for the 4 planted campaigns at the time of writing; 8 before refinement kept exclusive template families
    # whole): however many pieces, they form exactly four groups, each one planted campaign
    assert len(flagged) > 4
    groups: dict[str, set[str]] = {}
    for c in flagged:
        planted = Counter(truth[a] for a in c["members"]).most_common(1)[0][0]
        groups.setdefault(c["operator_group"], set()).add(planted)
    assert len(groups) == 4 and all(len(p) == 1 for p in groups.values())
    assert len({next(iter(p)) for p in groups.values()}) == 4

    assert main(["evaluate", "--truth", str(bundle / "truth.csv"), "--detected", str(out / "accounts.csv")]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["operator_recall"] == 1.0 and metrics["campaigns"] == 4

    # the API and the page show the ties, with reasons and strength
    auth.save_user("vera", "viewer", PASSWORD)
    client = create_app({"TESTING": True}).test_client()
    sizes = Counter(c["operator_group"] for c in flagged)
    first = next(c["id"] for c in flagged if sizes[c["operator_group"]] > 1)  # a cluster with related ones
    body = client.get(f"/api/campaigns/{first}", headers=bearer("vera")).get_json()
    partners = {c["id"] for c in flagged if c["operator_group"] == flagged[0]["operator_group"]} - {first}
    assert partners and {r["campaign_id"] for r in body["related"]} == partners
    assert all(r["reasons"] and r["strength"] > 0 for r in body["related"])
    # the triage queue shows each flagged cluster with the clusters it may share an operator with
    queue = client.get("/api/triage", headers=bearer("vera")).get_json()
    rows = {r["campaign_id"]: r for r in queue["campaigns"]}
    assert {p["campaign_id"] for p in rows[first]["operator_peers"]} == partners


def test_operator_recall_counts_a_campaign_found_as_a_related_group():
    from graph.detect.evaluate import evaluate

    truth = {f"a{i}": "camp-1" for i in range(10)} | {f"b{i}": None for i in range(10)}
    # camp-1 found as two pure clusters of 5: each holds half, so neither alone covers 80 %
    detected = {f"a{i}": ("k1" if i < 5 else "k2", True) for i in range(10)} | {f"b{i}": (None, False) for i in range(10)}
    metrics = evaluate(truth, detected)
    assert metrics["campaign_recall"] == 1.0  # flagged pure clusters together hold 100 %
    assert metrics["operator_recall"] == 0.0  # but the operator is two clusters, neither holding 80 %
    assert evaluate(truth, detected, operator_groups={"k1": "k1", "k2": "k1"})["operator_recall"] == 1.0
    # tied to a cluster of honest accounts, the group is impure: not found as one
    detected |= {f"b{i}": ("k3", True) for i in range(10)}
    assert evaluate(truth, detected, operator_groups={"k1": "k1", "k2": "k1", "k3": "k1"})["operator_recall"] == 0.0
