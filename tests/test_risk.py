"""Per-account risk (graph/detect/risk.py) on a small constructed graph in the real Neo4j: every account scored,
exact orderings, seeds raising what they share, the export column, the account page line."""
from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from app import auth, create_app
from app.cli import main
from graph import db
from graph.detect import pipeline, risk
from graph.detect.evaluate import auc
from webtools import login

FILLERS = [f"f{i:02d}" for i in range(60)]
ACCOUNTS = ["bad", "rare", "common", "many", *FILLERS]


def _links() -> list[tuple[str, str, str]]:
    """(account, kind, value): ``bad`` shares a card with ``rare`` only (2 users) and another with ``common`` and
    20 fillers (22 users); ``many`` has five cards of its own; every filler one card and one device."""
    links = [("bad", "payment", "pm_rare"), ("rare", "payment", "pm_rare"),
             ("bad", "payment", "pm_common"), ("common", "payment", "pm_common"),
             ("bad", "payment", "pm_bad_own"), ("bad", "device", "dev_bad")]
    links += [(f, "payment", "pm_common") for f in FILLERS[:20]]
    links += [(f, "payment", f"pm_{f}") for f in FILLERS[20:]]
    links += [(f, "device", f"dev_{f}") for f in FILLERS]
    links += [("rare", "device", "dev_rare"), ("common", "device", "dev_common"), ("many", "device", "dev_many")]
    links += [("many", "payment", f"pm_many_{i}") for i in range(5)]
    return links


@pytest.fixture
def world(empty_db, tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    with (bundle / "accounts.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["account_id", "created_at"])
        writer.writerows([a, "2026-01-01T00:00:00Z"] for a in ACCOUNTS)
    with (bundle / "links.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["account_id", "kind", "value"])
        writer.writerows(_links())
    assert main(["load", str(bundle), "--quiet", "--rejects", str(tmp_path / "rejects.csv")]) == 0
    return tmp_path


def _props() -> dict[str, dict]:
    rows = db.driver().execute_query(
        "MATCH (a:Account) RETURN a.account_id AS id, a.risk AS risk, a.risk_rank AS rank, "
        "a.seeded_risk AS seeded_risk, a.seeded_rank AS seeded_rank, a.risk_run AS run, "
        "a.risk_factors AS factors").records
    return {r["id"]: dict(r) for r in rows}


def test_every_account_gets_a_risk_with_exact_features_and_order(world):
    result = pipeline.run("gds")
    features = dict(zip(result.risk.accounts, zip(result.risk.features["shared"], result.risk.features["component"],
                                                  result.risk.features["own_payment"])))
    n = len(ACCOUNTS)
    # rarity: 1 for a card two accounts share, log(N/22)/log(N/2) for the one 22 accounts share
    assert features["rare"][0] == pytest.approx(1.0)
    assert features["common"][0] == pytest.approx(math.log(n / 22) / math.log(n / 2))
    assert features["bad"][0] == pytest.approx(1.0 + math.log(n / 22) / math.log(n / 2))
    assert features["rare"][1] == features["common"][1] == 23 and features["many"][1] == 1
    assert features["many"][2] == 5 and features["f30"][2] == 1

    stored = _props()
    assert set(stored) == set(ACCOUNTS)
    assert all(0.0 <= p["risk"] <= 1.0 and p["run"] == result.run_id for p in stored.values())
    assert sorted(p["rank"] for p in stored.values()) == list(range(1, n + 1))
    assert all(p["seeded_risk"] is None for p in stored.values())
    # nothing unusual about a filler with one card and one device: no evidence at all
    assert stored["f30"]["risk"] == 0.0 and result.risk.evidence[result.risk.accounts.index("f30")] == 0.0
    # five cards when everybody else has one or three: the most unusual account by its own cards
    assert stored["many"]["risk"] > 0.9
    assert any(f.startswith("5 payment identifiers of its own: top") for f in stored["many"]["factors"])
    # bad has three cards and shares two of them
    assert stored["bad"]["rank"] == 1 and stored["bad"]["risk"] == 1.0


def test_seeds_raise_what_they_share_rare_before_common(world, tmp_path):
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("# known bad\nbad\n")
    out = tmp_path / "out"
    assert main(["detect", "--seeds", str(seeds), "--export", str(out)]) == 0
    stored = _props()
    assert stored["bad"]["seeded_rank"] == 1 and stored["bad"]["seeded_risk"] == 1.0
    # the card bad shares with one account says more than the one it shares with 21
    assert stored["rare"]["seeded_rank"] == 2
    assert stored["rare"]["seeded_risk"] > stored["common"]["seeded_risk"] > stored["f30"]["seeded_risk"]
    assert stored["rare"]["seeded_rank"] < stored["rare"]["rank"]
    # the walk passes half of what reaches the rare card to rare, a 22nd of what reaches the common card to each user
    walk = risk.compute(ACCOUNTS, {}, {}, seeds=["bad"])
    at = {a: walk.features["seed_proximity"][i] for i, a in enumerate(ACCOUNTS)}
    assert at["rare"] > 3 * at["common"] > 0 and at["common"] == pytest.approx(at["f00"]) and at["f30"] == 0.0

    with (out / "accounts.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["account_id"] for r in rows] == sorted(ACCOUNTS)
    assert all(r["risk"] != "" and r["risk_rank"] != "" and r["seeded_risk"] != "" for r in rows)
    assert {int(r["risk_rank"]) for r in rows} == set(range(1, len(ACCOUNTS) + 1))
    assert all(0.0 <= float(r["risk"]) <= 1.0 and 0.0 <= float(r["seeded_risk"]) <= 1.0 for r in rows)



def test_evaluate_labels_reports_account_level_auc(world, tmp_path, capsys):
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("bad\n")
    out = tmp_path / "out"
    assert main(["detect", "--seeds", str(seeds), "--export", str(out)]) == 0
    capsys.readouterr()
    labels = tmp_path / "labels.csv"
    labels.write_text("account_id,label\nbad,fraud\nrare,fraud\nf00,benign\n")
    assert main(["evaluate", "--labels", str(labels), "--detected", str(out / "accounts.csv"),
                 "--exclude-seeds", str(seeds)]) == 0
    metrics = json.loads(capsys.readouterr().out)
    # rare is the best-ranked non-seed account: a perfect seeded ranking of the held-out label
    assert metrics["accounts"] == len(ACCOUNTS) - 1 and metrics["fraud_accounts"] == 1
    assert metrics["auc_seeded_risk"] == 1.0
    assert 0.0 <= metrics["auc_risk"] <= 1.0 and 0.0 <= metrics["auc_score"] <= 1.0


def test_account_page_shows_the_risk_line(world):
    pipeline.run("gds")
    app = create_app({"TESTING": True})
    auth.save_user("vera", "viewer", "correct horse battery")
    client = app.test_client()
    login(client, "vera")
    page = client.get("/accounts/many").get_data(as_text=True)
    stored = _props()["many"]
    assert f"<strong>Risk {stored['risk']:.3f}</strong> (rank {stored['rank']:,}" in page
    data = client.get("/api/accounts/many").get_json()
    assert data["account"]["risk"] == stored["risk"] and data["account"]["risk_rank"] == stored["rank"]


def test_bad_seed_and_label_files_fail_with_one_line(world, tmp_path, capsys):
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("nobody-<script>\n")
    assert main(["detect", "--seeds", str(seeds)]) != 0
    err = capsys.readouterr().err
    assert "nobody-<script>" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    # nothing was persisted by the refused run
    assert db.driver().execute_query("MATCH (r:DetectionRun) RETURN count(r) AS n").records[0]["n"] == 0
    labels = tmp_path / "labels.csv"
    labels.write_text("account_id,verdict\nbad,fraud\n")
    detected = tmp_path / "accounts.csv"
    detected.write_text("account_id,risk\nbad,0.5\n")
    assert main(["evaluate", "--labels", str(labels), "--detected", str(detected)]) != 0
    err = capsys.readouterr().err
    assert "label" in err and "line 1" in err and len(err.strip().splitlines()) == 1
    detected.write_text("account_id,risk\nbad,high\n")
    labels.write_text("account_id,label\nbad,fraud\n")
    assert main(["evaluate", "--labels", str(labels), "--detected", str(detected)]) != 0
    assert "line 2: column risk must be a number" in capsys.readouterr().err


def test_upper_tail_surprise_and_percentile_exact():
    values = np.array([0.0, 0.0, 0.0, 1.0])
    assert risk.upper_tail_surprise(values).tolist() == [0.0, 0.0, 0.0, pytest.approx(math.log(4))]
    # reference set: the tail share is taken among the chosen accounts only
    among = np.array([True, True, False, False])
    assert risk.upper_tail_surprise(values, among)[3] == pytest.approx(math.log(2))
    share, rank = risk.percentile(np.array([0.0, 0.0, 1.0, 3.0]))
    assert share.tolist() == [0.0, 0.0, pytest.approx(2 / 3), 1.0]
    assert rank.tolist() == [3, 4, 2, 1]


def test_auc_counts_ties_half():
    assert auc([1, 2, 3, 4], [False, False, True, True]) == 1.0
    assert auc([4, 3, 2, 1], [False, False, True, True]) == 0.0
    assert auc([1, 1, 1, 1], [False, True, False, True]) == 0.5
    assert auc([0, 1, 1, 2], [False, True, False, True]) == 0.875
    assert math.isnan(auc([1, 2], [True, True]))


# ---- the P2P test-bed generator (loaders/synthetic/p2p.py) ----------------------------------------------------

def _read(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_p2p_world_is_seeded_repeated_and_not_cleanly_clustered(tmp_path):
    one, again, other = tmp_path / "one", tmp_path / "again", tmp_path / "other"
    for out, seed in ((one, "1"), (again, "1"), (other, "2")):
        assert main(["simulate", "--scale", "p2p", "--seed", seed, "--accounts", "3000", "--out", str(out),
                     "--quiet"]) == 0
    names = ["accounts.csv", "links.csv", "relations.csv", "heldout_labels.csv"]
    assert all((one / n).read_bytes() == (again / n).read_bytes() for n in names)
    assert (one / "links.csv").read_bytes() != (other / "links.csv").read_bytes()

    accounts = {r["account_id"] for r in _read(one / "accounts.csv")}
    labels = {r["account_id"]: r for r in _read(one / "heldout_labels.csv")}
    assert set(labels) == accounts and len(accounts) == 3000
    transfers = [r for r in _read(one / "relations.csv") if r["kind"] == "transfer"]
    pairs = {(r["account_id"], r["other_account_id"]) for r in transfers}
    assert len(transfers) > 2 * len(pairs)  # repeated payments, each with its own time and amount
    assert all(float(r["amount"]) > 0 and r["ts"].endswith("Z") for r in transfers)

    cards: dict[str, set[str]] = {}
    users: dict[str, set[str]] = {}
    for r in _read(one / "links.csv"):
        if r["kind"] == "payment":
            cards.setdefault(r["account_id"], set()).add(r["value"])
            users.setdefault(r["value"], set()).add(r["account_id"])
    sharing = {a for members in users.values() if len(members) > 1 for a in members}
    roles = {a: r["role"] for a, r in labels.items()}
    loners = [a for a, role in roles.items() if role == "loner"]
    honest = [a for a, role in roles.items() if role == "honest"]
    # loners with several cards and nobody to share them with; honest users sharing a card; honest users with
    # several cards; rings sharing; chargebacks on honest users and fraudsters without one
    assert sum(1 for a in loners if a not in sharing and len(cards[a]) >= 2) > 0.3 * len(loners)
    assert sum(1 for a in honest if a in sharing) > 0.05 * len(honest)
    assert sum(1 for a in honest if len(cards[a]) >= 2) > 0.2 * len(honest)
    assert any(roles[a] == "ring" for a in sharing)
    assert any(r["label"] == "fraud" and r["role"] == "honest" for r in labels.values())
    assert any(r["label"] == "benign" and r["role"] != "honest" for r in labels.values())
    # cards per account carries signal, not a clean separation
    y = [labels[a]["label"] == "fraud" for a in sorted(accounts)]
    assert 0.6 < auc([len(cards.get(a, ())) for a in sorted(accounts)], y) < 0.8


def test_p2p_distinct_transfers_and_refused_options(tmp_path, capsys):
    out = tmp_path / "p2p"
    assert main(["simulate", "--scale", "p2p", "--accounts", "1000", "--out", str(out), "--quiet",
                 "--distinct-transfers"]) == 0
    rows = _read(out / "relations.csv")
    keys = [(r["account_id"], r["other_account_id"], r["kind"]) for r in rows]
    assert len(keys) == len(set(keys))
    assert json.loads((out / "scenario.json").read_text())["repeated_transfers"] is False
    capsys.readouterr()
    assert main(["simulate", "--scale", "p2p", "--periods", "2", "--out", str(tmp_path / "x"), "--quiet"]) != 0
    err = capsys.readouterr().err
    assert "--scale p2p takes only" in err and len(err.strip().splitlines()) == 1
    assert main(["simulate", "--scale", "p2p", "--out", str(out), "--quiet"]) != 0
    assert "not empty" in capsys.readouterr().err
    assert main(["simulate", "--scale", "demo", "--distinct-transfers", "--out", str(tmp_path / "y")]) != 0
    assert "p2p only" in capsys.readouterr().err
