"""The model fitted on labels (graph/detect/learned.py): positive–unlabelled, out-of-fold, calibration reported.
Pure computation on calibrated clusters first, then a world in the real Neo4j with some operators labelled."""
from __future__ import annotations

import itertools
import json
import random

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from webtools import PASSWORD, login
from worlds import add_households, add_ring

from app import auth, create_app
from app.cli import main
from graph import db
from graph.detect import learned, pipeline
from graph.detect.evaluate import auc
from graph.detect.params import ScoringParams
from graph.detect.scoring import BENIGN, LINES, ClusterScore, Feature, calibrate

NAMES = sorted(LINES) + [BENIGN]


def _cluster(key: str, values: dict[str, float], size: int) -> ClusterScore:
    return ClusterScore(key, [f"{key}-{i:03d}" for i in range(size)], {"summary": f"{key}: accounting"},
                        [Feature(n, values.get(n, 0.0), n) for n in NAMES])


def _calibrated(seed: int, honest: int = 200, operators: int = 10) -> list[ClusterScore]:
    """Honest clusters showing a little on a few measurements; operators high on the measurements of one kind of
    operation (shared cards, proxies, templates, reasoning, creation bursts) and like honest ones elsewhere."""
    rng = random.Random(seed)

    def honest_like() -> dict[str, float]:
        return {n: rng.random() if rng.random() < 0.2 else 0.0 for n in NAMES}

    scores = [_cluster(f"h{i}", honest_like(), rng.randint(3, 20)) for i in range(honest)]
    signature = ("shared_payment", "proxy_exits", "shared_templates", "reasoning_elicitation", "creation_burst")
    scores += [_cluster(f"op{j}", {**honest_like(), BENIGN: 0.0, **{n: rng.uniform(0.6, 1.0) for n in signature}},
                        rng.randint(20, 200)) for j in range(operators)]
    calibrate(scores, ScoringParams())
    return scores


def _fraud(*clusters: str) -> dict[str, str]:
    return {f"{c}-000": "fraud" for c in clusters}


# ---- pure -------------------------------------------------------------------------------------------------

def test_no_labels_no_model_and_too_few_labelled_clusters_say_so_in_one_line():
    scores = _calibrated(1)
    assert learned.fit(scores, {}) is None
    learned.annotate(scores, None, ScoringParams())
    assert all(s.learned_probability is None and s.learned_sentence == "" for s in scores)
    assert all(not any("a model" in line for line in s.evidence) for s in scores)

    few = learned.fit(scores, {**_fraud("op0", "op1"), "h0-000": "benign", "nowhere": "fraud"})
    assert not few.fitted and few.probability == {}
    assert few.paragraph() == ("labels: 2 scored clusters hold accounts labelled fraud (2 of 3 fraud-labelled "
                               "accounts are in scored clusters); a cross-validated model needs at least 3: no model "
                               "fitted")
    assert "\n" not in few.paragraph()
    assert few.summary() == {"fitted": False, "reason": few.reason, "labelled_positive_clusters": 2,
                             "minimum_positive_clusters": 3}
    learned.annotate(scores, few, ScoringParams())
    assert all(s.learned_probability is None for s in scores)


@pytest.mark.parametrize("seed", [2, 3, 4, 5])
def test_unlabelled_operators_score_high_and_honest_clusters_low(seed):
    scores = _calibrated(seed)
    model = learned.fit(scores, {**_fraud("op0", "op1", "op2", "op3", "op4"), "h0-001": "benign", "h1-002": "benign"})
    assert model.fitted and (model.positives, model.negatives, model.unlabelled, model.folds) == (5, 2, 203, 5)
    p = {s.cluster: model.probability[s.cluster] for s in scores}
    operators = [p[f"op{j}"] for j in range(10)]
    honest = [p[f"h{i}"] for i in range(200)]
    # the five operators nobody labelled look like the labelled ones: more likely than not operators, on average
    assert np.mean(operators[5:]) >= learned.REVIEW_PROBABILITY
    assert np.mean(honest) < 0.05 and np.quantile(honest, 0.95) < learned.REVIEW_PROBABILITY
    # out-of-fold, every operator (labelled ones by models that never saw their labels) ranks with operators
    assert auc(operators + honest, [True] * 10 + [False] * 200) > 0.97
    assert 0 < model.c_range[0] <= model.c <= model.c_range[1] <= 1
    assert model.auc > 0.9 and model.auc_vs_benign == 1.0


def test_labels_suggest_review_only_for_tracked_clusters_below_the_flag():
    scores = _calibrated(2)
    model = learned.fit(scores, _fraud("op0", "op1", "op2", "op3", "op4"))
    params = ScoringParams()
    likely = [s for s in scores if model.probability[s.cluster] >= learned.REVIEW_PROBABILITY][:3]
    unlikely = next(s for s in scores if model.probability[s.cluster] < learned.REVIEW_PROBABILITY)
    for s, score in zip(likely + [unlikely], (params.flag_threshold, params.track_threshold + 1,
                                              params.track_threshold - 1, params.track_threshold + 1)):
        s.score = score  # flagged, tracked below the flag, not tracked; and an unlikely one tracked below the flag
    learned.annotate(scores, model, params)
    assert [learned.suggests_review(s, params) for s in likely + [unlikely]] == [False, True, False, False]
    assert likely[1].learned_sentence.endswith("; labels suggest review (the score alone does not flag it)")
    assert all("review" not in s.learned_sentence for s in (likely[0], likely[2], unlikely))
    # the sentence sits before the accounting line, after "together: ..."
    assert likely[1].evidence[-2:] == [likely[1].learned_sentence, likely[1].accounting["summary"]]


def test_a_clusters_own_label_never_feeds_its_prediction():
    """Flipping one cluster's label changes nothing computed for it: the model that predicts it and the c that
    divides its prediction both come from the other folds only."""
    rng = np.random.default_rng(3)
    x = np.vstack([rng.normal(0, 1, (60, 4)), rng.normal(2, 1, (12, 4))])
    s = np.zeros(72)
    s[[60, 61, 62, 63, 64, 65, 66, 67]] = 1  # 8 of the 12 "operators" labelled
    folds = learned.assign_folds(s.astype(bool), np.arange(72), 4)
    g, c = learned.out_of_fold(x, s, folds)
    for row in (60, 70, 5):  # a labelled positive, an unlabelled operator, an honest row
        flipped = s.copy()
        flipped[row] = 1 - flipped[row]
        g2, c2 = learned.out_of_fold(x, flipped, folds)
        assert g2[row] == g[row] and c2[row] == c[row]
        # ... while the other folds, whose models saw the flip, do change
        assert not np.array_equal(g2[folds != folds[row]], g[folds != folds[row]])


def test_folds_spread_positives_evenly_and_auc_and_reliability_are_what_they_say():
    labelled = np.array([True] * 7 + [False] * 20)
    folds = learned.assign_folds(labelled, np.arange(27)[::-1], 5)
    assert sorted(np.bincount(folds[labelled]).tolist()) == [1, 1, 1, 2, 2]
    assert sorted(np.bincount(folds[~labelled]).tolist()) == [4, 4, 4, 4, 4]

    # reliability by hand: five clusters, c = 0.5
    p = np.array([0.05, 0.1, 0.5, 0.9, 1.0])
    s = np.array([0.0, 0.0, 0.0, 1.0, 0.0])
    table = learned.reliability(p, np.full(5, 0.5), s)
    assert [(b["clusters"], b["mean_probability"], b["expected_labelled"], b["observed_labelled"]) for b in table] == [
        (2, 0.075, 0.0375, 0.0), (0, None, None, None), (1, 0.5, 0.25, 0.0), (0, None, None, None),
        (2, 0.95, 0.475, 0.5)]

    # the reported AUC is the share of (labelled, other) pairs the reported probabilities order correctly
    scores = _calibrated(4, honest=60, operators=6)
    model = learned.fit(scores, _fraud("op0", "op1", "op2", "op3"))
    positive = [model.probability[s.cluster] for s in scores if s.cluster in model.labelled]
    other = [model.probability[s.cluster] for s in scores if s.cluster not in model.labelled]
    pairs = [1.0 if a > b else 0.5 if a == b else 0.0 for a, b in itertools.product(positive, other)]
    assert model.auc == pytest.approx(sum(pairs) / len(pairs))
    q = np.array([model.probability[s.cluster] * model.c_per_cluster[s.cluster] for s in scores])
    labels = np.array([s.cluster in model.labelled for s in scores], dtype=float)
    assert model.brier == pytest.approx(np.mean((q - labels) ** 2))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), operators=st.integers(3, 12), labelled=st.integers(3, 12),
       benign=st.integers(0, 5))
def test_calibration_figures_are_probabilities(seed, operators, labelled, benign):
    scores = _calibrated(seed, honest=40, operators=operators)
    labels = {**_fraud(*(f"op{j}" for j in range(min(labelled, operators)))),
              **{f"h{i}-000": "benign" for i in range(benign)}}
    model = learned.fit(scores, labels)
    summary = json.loads(json.dumps(model.summary(), allow_nan=False))  # stored as JSON: no NaN
    assert 0 < summary["c"] <= 1 and 0 <= summary["auc"] <= 1 and 0 <= summary["brier"] <= 1
    assert all(0 <= p <= 1 for p in model.probability.values()) and len(model.probability) == len(scores)
    assert sum(b["clusters"] for b in summary["reliability"]) == len(scores)
    for b in summary["reliability"]:
        assert b["clusters"] == 0 or all(0 <= b[k] <= 1 for k in ("mean_probability", "expected_labelled",
                                                                  "observed_labelled"))


# ---- a world in Neo4j -------------------------------------------------------------------------------------

def cypher(query: str, **params):
    return db.driver().execute_query(query, params).records


OPERATOR_MIX = ["reasoning", "tool_use", "chat"]


def _hydra(prefix: str, n: int, shift: int) -> None:
    """n accounts paying with a pool of three cards, leaving through their own residential proxy network, sending
    three chain-of-thought templates in one shift of hours."""
    cypher("""
      UNWIND range(0, $n - 1) AS i
      CREATE (a:Account {account_id: $prefix + right('0' + i, 2), created_at: datetime('2026-04-01T00:00:00Z') + duration({hours: i}),
                         requests: 1000 + (i % 3) * 20, input_tokens: 300000, output_tokens: 1500000,
                         hour_profile: [h IN range(0, 23) | CASE WHEN (h + 24 - $shift) % 24 < 4 THEN 250 ELSE 0 END],
                         capabilities: $caps, capability_counts: [700, 250, 50]})
      WITH a, i
      UNWIND [i % 3, (i + 1) % 3] AS card_number
      MERGE (card:PaymentMethod {value: 'pm_' + $prefix + card_number})
      CREATE (a)-[:HAS_IDENTIFIER {kind: 'payment'}]->(card)
      WITH DISTINCT a, i
      MERGE (net:ProxyNetwork {name: 'net_' + $prefix, proxy_type: 'residential'})
      CREATE (a)-[:USED_NETWORK {count: 900}]->(net)
      WITH a
      UNWIND range(0, 2) AS t
      MERGE (tpl:PromptTemplate {template_id: $prefix + '_cot_' + t})
      CREATE (a)-[:SENT {n: 300}]->(tpl)
    """, prefix=prefix, n=n, shift=shift, caps=OPERATOR_MIX)


def _company(prefix: str, org: str, n: int, office: str) -> None:
    cypher("""
      UNWIND range(0, $n - 1) AS i
      CREATE (a:Account {account_id: $prefix + right('0' + i, 2), org: $org,
                         created_at: datetime('2026-01-10T00:00:00Z') + duration({days: i}),
                         requests: toInteger(20 * 2 ^ (i % 8)),
                         hour_profile: [h IN range(0, 23) | CASE WHEN h >= 8 AND h < 18 THEN 10 + (h + i) % 5 ELSE 0 END],
                         capabilities: ['chat', 'coding', 'writing', 'analysis'], capability_counts: [30, 25, 15, 12]})
      MERGE (card:PaymentMethod {value: 'pm_' + $prefix})
      CREATE (a)-[:HAS_IDENTIFIER {kind: 'payment'}]->(card)
      MERGE (nat:IP {value: $office, proxy_type: 'none'})
      CREATE (a)-[:USED_IP {count: a.requests}]->(nat)
    """, prefix=prefix, org=org, n=n, office=office)


LABELLED = ("hya", "hyb", "rga")     # operators with a fraud label on one or two accounts
UNLABELLED = ("hyc", "hyd", "rgb")   # operators nobody has labelled


def _world() -> None:
    for prefix, shift in (("hya", 2), ("hyb", 7), ("hyc", 13), ("hyd", 19)):
        _hydra(prefix, 30, shift)
    add_ring(cypher, "rga", 24, "2026-04-10T10:00:00Z", OPERATOR_MIX, [150, 30, 20])
    add_ring(cypher, "rgb", 22, "2026-05-02T16:00:00Z", OPERATOR_MIX, [150, 30, 20])
    _company("emp", "Contoso Ltd", 40, "192.0.2.10")
    _company("fab", "Fabrikam", 25, "192.0.2.20")
    add_households(cypher, count=80)


def _label(rows: list[dict]) -> None:
    """The loader's own write of the `labels` table (cypher/load/labels.cypher)."""
    db.run("load/labels", rows=rows)


def test_labels_train_a_model_shown_beside_the_score_and_nothing_without_them(empty_db, tmp_path, capsys):
    _world()
    _label([{"account_id": "hya00", "label": "fraud", "source": "chargeback"},
            {"account_id": "hyb05", "label": "fraud", "source": "analyst_review"},
            {"account_id": "hyb06", "label": "fraud", "source": "analyst_review"},
            {"account_id": "rga03", "label": "fraud", "source": "partner_report"},
            {"account_id": "emp07", "label": "benign", "source": "enterprise_contract"},
            {"account_id": "hh011_1", "label": "benign", "source": "analyst_review"}])
    result = pipeline.run("gds")
    by_prefix = {s.members[0][:3]: s for s in result.clusters if len({a[:3] for a in s.members}) == 1}
    model = result.learned
    assert model.fitted and model.positives == 3 and model.negatives == 2 and model.folds == 3
    assert model.fraud_accounts == model.fraud_accounts_clustered == 4
    # operators nobody labelled: at least as likely as not; every honest cluster below that
    for prefix in UNLABELLED:
        assert by_prefix[prefix].learned_probability >= learned.REVIEW_PROBABILITY, prefix
    operators = set(LABELLED + UNLABELLED)
    honest = [s.learned_probability for s in result.clusters if not {a[:3] for a in s.members} & operators]
    assert len(honest) >= 80 and max(honest) < learned.REVIEW_PROBABILITY
    # labelled vs unlabelled, and unlabelled operators count against it: well above chance, not 1
    labelled = [model.probability[k] for k in model.labelled if model.labelled[k][0] == "fraud"]
    others = [model.probability[s.cluster] for s in result.clusters if s.cluster not in model.labelled
              or model.labelled[s.cluster][0] != "fraud"]
    assert model.auc == auc(labelled + others, [True] * len(labelled) + [False] * len(others)) > 0.75, (
        labelled, {p: by_prefix[p].learned_probability for p in UNLABELLED})

    # the flag is the calibrated score's, whatever the model says
    assert all(s.score >= result.flag_threshold for s in result.clusters
               if s.cluster in {c.cluster for _, c in result.campaigns} and s.members[0] in result.flagged_accounts)
    stored = cypher("MATCH (r:DetectionRun {run_id: $run}) RETURN r.learned_model AS model", run=result.run_id)
    summary = json.loads(stored[0]["model"])
    assert summary["fitted"] and summary["labelled_positive_clusters"] == 3 and summary["folds"] == 3
    assert summary["c"] == round(model.c, 4) and 0 < summary["c"] <= 1
    campaigns = {r["id"]: r["p"] for r in cypher(
        "MATCH (c:Campaign {active: true}) RETURN c.campaign_id AS id, c.learned_probability AS p")}
    assert campaigns and all(campaigns[cid] == s.learned_probability for cid, s in result.campaigns)
    hyc = next(s for _, s in result.campaigns if s.members[0].startswith("hyc"))
    assert (f"a model fitted on 3 labelled operator clusters puts this cluster at {hyc.learned_probability:.2f} "
            f"(cross-validated; labels' AUC {model.auc:.2f})") in hyc.evidence
    hya = next(s for _, s in result.campaigns if s.members[0].startswith("hya"))
    assert hya.evidence[-2].startswith("1 of its accounts is labelled fraud; a model that never saw its labels")

    # the campaign page and its JSON twin show the probability beside the score
    hyc_id = next(cid for cid, s in result.campaigns if s is hyc)
    auth.save_user("vera", "viewer", PASSWORD)
    client = create_app({"TESTING": True}).test_client()
    login(client, "vera")
    assert client.get(f"/api/campaigns/{hyc_id}").get_json()["campaign"]["learned_probability"] == hyc.learned_probability
    page = client.get(f"/campaigns/{hyc_id}").get_data(as_text=True)
    assert f"Learned from labels: <strong>{hyc.learned_probability:.2f}</strong>" in page

    _, campaigns_json = pipeline.export(result, tmp_path / "with")
    exported = json.loads(campaigns_json.read_text())
    assert exported["learned_model"] == summary
    assert all(c["learned_probability"] == campaigns[c["id"]] for c in exported["campaigns"])

    # no labels: no model, no field, and an earlier run's probabilities are gone
    cypher("MATCH (a:Account) REMOVE a.label, a.label_source")
    assert main(["detect", "--export", str(tmp_path / "without")]) == 0
    out = capsys.readouterr().out
    assert "labels:" not in out
    exported = json.loads((tmp_path / "without" / "campaigns.json").read_text())
    assert "learned_model" not in exported and exported["campaigns"]
    assert all("learned_probability" not in c and not any("labelled" in e for e in c["evidence"])
               for c in exported["campaigns"])
    assert cypher("MATCH (c:Campaign) WHERE c.learned_probability IS NOT NULL RETURN count(c) AS n")[0]["n"] == 0
    latest = cypher("MATCH (r:DetectionRun) RETURN r.learned_model AS model ORDER BY r.started_at DESC LIMIT 1")
    assert latest[0]["model"] is None
    client = create_app({"TESTING": True}).test_client()
    login(client, "vera")
    assert "learned_probability" not in client.get(f"/api/campaigns/{hyc_id}").get_json()["campaign"]
    assert "Learned from labels" not in client.get(f"/campaigns/{hyc_id}").get_data(as_text=True)

    # labels again: `detect` prints the model in one paragraph
    _label([{"account_id": a, "label": "fraud", "source": None} for a in ("hya00", "hyb05", "rga03")])
    assert main(["detect"]) == 0
    out = capsys.readouterr().out
    paragraph = next(line for line in out.splitlines() if line.startswith("labels: "))
    assert "a model fitted on 3 labelled operator clusters" in paragraph and "c = " in paragraph
    assert "The flag rule is unchanged" in paragraph
