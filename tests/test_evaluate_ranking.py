"""`linkwatch evaluate`'s ranking metrics: average precision of the cluster ranking, each campaign's best rank,
separation from honest clusters, account-level AUC; exact values on small constructed inputs."""
from __future__ import annotations

import json

import pytest

from app.cli import main
from graph.detect.evaluate import found_campaigns, rank_clusters


def _truth(with_c: bool = True) -> dict:
    truth = {f"a{i}": "A" for i in range(1, 5)} | {f"b{i}": "B" for i in range(1, 4)}
    truth |= {f"h{i}": None for i in range(1, 31)}
    if with_c:
        truth |= {"c1": "C", "c2": "C"}
    return truth


def _clusters(honest_score: float = 80) -> list:
    return [("k1", 90, ["a1", "a2", "a3"]),                      # mostly A: positive
            ("k2", honest_score, [f"h{i}" for i in range(1, 26)]),  # honest, 25 accounts
            ("k3", 70, ["b1", "b2", "h26"]),                     # 2 of 3 B: positive
            ("k4", 70, ["a4", "h27"]),                           # half and half: neither (ties rank it first)
            ("k5", 10, ["h28", "h29"])]                          # honest but small


def test_average_precision_counts_unclustered_campaigns_as_never_retrieved():
    metrics = rank_clusters(_truth(), _clusters())
    # order k1, k2, k4, k3, k5: positives at ranks 1 and 4; C has no cluster (precision 0)
    assert metrics["average_precision"] == round((1 / 1 + 2 / 4) / 3, 4) == 0.5
    assert metrics["campaign_best_rank"] == {"A": 1, "B": 4, "C": None}
    assert metrics["positive_clusters"] == 2 and metrics["clusters_ranked"] == 5
    assert metrics["honest_clusters_20_plus"] == 1
    assert metrics["campaigns_above_honest"] is False and metrics["separation"] is None


def test_separation_from_the_largest_honest_clusters():
    below = rank_clusters(_truth(with_c=False), _clusters(honest_score=80))
    assert below["average_precision"] == 0.75  # (1 + 2/4) / 2
    assert below["campaigns_above_honest"] is False and below["separation"] == -10.0
    above = rank_clusters(_truth(with_c=False), _clusters(honest_score=60))
    # order k1, k4, k3 (tie at 70: the mixed cluster first), k2, k5
    assert above["average_precision"] == round((1 + 2 / 3) / 2, 4)
    assert above["campaign_best_rank"] == {"A": 1, "B": 3}
    assert above["campaigns_above_honest"] is True and above["separation"] == 10.0
    # a tie with an honest cluster is not "above"
    tied = rank_clusters(_truth(with_c=False), _clusters(honest_score=70))
    assert tied["campaigns_above_honest"] is False and tied["separation"] == 0.0
    assert tied["campaign_best_rank"]["B"] == 4


def test_nothing_planted_has_no_average_precision():
    metrics = rank_clusters({"h1": None, "h2": None}, [("k1", 5, ["h1", "h2"])])
    assert metrics["average_precision"] is None and metrics["campaigns_above_honest"] is False


def test_found_campaigns_follow_the_campaign_recall_rule():
    truth = _truth(with_c=False)
    detected = {a: (None, False) for a in truth} | {a: ("x", True) for a in ("a1", "a2", "a3", "a4")}
    assert found_campaigns(truth, detected) == ["A"]


@pytest.fixture
def export(tmp_path):
    (tmp_path / "truth.csv").write_text("account_id,campaign_id,role,archetype\na,c1,operator_account,ring\n"
                                        "b,c1,operator_account,ring\nc,,benign,\nd,,benign,\n")
    (tmp_path / "accounts.csv").write_text("account_id,campaign_id,score,flagged,risk,risk_rank,seeded_risk\n"
                                           "a,cmp-1,80,true,0.9,1,\nb,cmp-2,20,false,0.1,4,\n"
                                           "c,cmp-2,30,false,0.5,2,\nd,,0,false,0.2,3,\n")
    (tmp_path / "campaigns.json").write_text(json.dumps({"campaigns": [
        {"id": "cmp-1", "score": 80, "members": ["a"]}, {"id": "cmp-2", "score": 30, "members": ["b", "c"]}]}))
    (tmp_path / "labels.csv").write_text("account_id,label\na,fraud\nc,benign\n")
    return tmp_path


def test_evaluate_command_reports_ranking_and_account_auc(export, capsys):
    assert main(["evaluate", "--truth", str(export / "truth.csv"), "--detected", str(export / "accounts.csv")]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["average_precision"] == 1.0 and metrics["campaign_best_rank"] == {"c1": 1}
    # scores: planted a 80, b 20; honest c 30, d 0 -> 3 of 4 pairs ordered; risk 0.9, 0.1 vs 0.5, 0.2 -> 2 of 4
    assert metrics["account_auc_vs_truth"] == {"auc_risk": 0.5, "auc_score": 0.75}
    assert "labels" not in metrics

    assert main(["evaluate", "--truth", str(export / "truth.csv"), "--labels", str(export / "labels.csv"),
                 "--detected", str(export / "accounts.csv")]) == 0
    both = json.loads(capsys.readouterr().out)
    assert both["labels"]["auc_score"] == 1.0 and both["labels"]["fraud_accounts"] == 1
    assert both["average_precision"] == 1.0


def test_evaluate_command_rejects_bad_campaign_files_and_missing_references(export, capsys):
    assert main(["evaluate", "--detected", str(export / "accounts.csv")]) == 2
    assert capsys.readouterr().err.strip() == "linkwatch: error: evaluate needs --truth CSV, --labels CSV or both"
    (export / "campaigns.json").write_text(json.dumps({"campaigns": [{"id": "x", "score": "high", "members": []}]}))
    assert main(["evaluate", "--truth", str(export / "truth.csv"), "--detected", str(export / "accounts.csv")]) == 2
    assert capsys.readouterr().err.strip().endswith('campaign 1: needs a numeric "score" and a "members" list')


def test_labels_without_positives_give_null_not_nan(export, capsys):
    (export / "labels.csv").write_text("account_id,label\na,benign\n")
    assert main(["evaluate", "--labels", str(export / "labels.csv"), "--detected", str(export / "accounts.csv")]) == 0
    assert json.loads(capsys.readouterr().out)["auc_score"] is None
