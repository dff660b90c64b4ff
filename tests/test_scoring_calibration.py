"""The calibration of campaign scores (graph/detect/scoring.py): rarity among the run's clusters, lines of
evidence, expected false flags. Pure computation on measured values; the graph-backed cases are in
test_detect.py (a campaign, a referral ring, a company and households) and test_detect_demo.py."""
from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from graph.detect.params import ScoringParams
from graph.detect.scoring import LINES, ClusterScore, Feature, calibrate, rarity

NAMES = sorted(LINES)


def _cluster(key: str, values: dict[str, float], size: int = 5) -> ClusterScore:
    accounting = {"summary": f"{key}: accounting"}
    members = [f"{key}-{i}" for i in range(size)]
    return ClusterScore(key, members, accounting, [Feature(n, values.get(n, 0.0), n) for n in NAMES])


def test_rarity_is_the_smoothed_share_of_clusters_at_least_as_high():
    values = np.array([0.0, 0.0, 0.5, 1.0])
    assert rarity(values, 0).tolist() == [1.0, 1.0, 0.5, 0.25]
    # ten pseudo-clusters spread over [0, 1]: 5 of them reach 0.5, none reaches 1
    assert rarity(values, 10).tolist() == pytest.approx([1.0, 1.0, 7 / 14, 1 / 14])


def test_nothing_unusual_is_never_flagged_and_scores_fall_with_the_number_of_clusters():
    for n in (3, 50, 500):
        scores = [_cluster(f"c{i}", {}) for i in range(n)]
        calibrate(scores, ScoringParams())
        assert {s.evidence_nats for s in scores} == {0.0}
        # every cluster of the run has this much evidence: n of them are expected by chance
        assert all(s.expected_false == pytest.approx(n) for s in scores)
        assert {s.score for s in scores} == {ScoringParams().score_for(n)}


def test_one_line_never_flags_however_extreme():
    rng = random.Random(1)
    scores = [_cluster(f"c{i}", _honest(rng)) for i in range(2000)]
    scores.append(_cluster("one", {n: (1.0 if LINES[n] == "egress" else 0.0) for n in NAMES}, size=50))
    calibrate(scores, ScoringParams())
    assert scores[-1].lines["egress"] > 6 and scores[-1].score < 50


def _honest(rng: random.Random) -> dict[str, float]:
    """Most honest clusters show nothing on most measurements, now and then a little, sometimes a lot."""
    return {n: (rng.random() if rng.random() < 0.2 else 0.0) for n in NAMES}


def test_rare_lines_add_up_until_they_flag_in_a_large_graph():
    rng = random.Random(2)
    honest = [_honest(rng) for _ in range(500)]
    lines = ["egress", "content", "origin", "timing"]
    found = []
    for k in range(1, 5):
        scores = [_cluster(f"c{i}", values) for i, values in enumerate(honest)]
        scores.append(_cluster("op", {n: 1.0 for n in NAMES if LINES[n] in lines[:k]}, size=50))
        calibrate(scores, ScoringParams())
        found.append(scores[-1])
    assert [s.score for s in found] == sorted(s.score for s in found)
    assert found[0].score < 50 <= found[3].score
    assert found[3].contributions()["proxy_exits"] == pytest.approx(
        10 * math.log10(1 / found[3].rarity["proxy_exits"]), abs=0.05)


@pytest.mark.parametrize("n", [40, 400])
def test_expected_false_flags_hold_when_the_lines_are_independent(n):
    """Worlds of honest clusters only, every measurement independent: a run flags α = 0.05 clusters on average.
    Over 200 runs the count is Poisson(10); more than 22 would happen less than once in 1,000 suites."""
    rng = np.random.default_rng(n)
    flagged = 0
    for _ in range(200):
        scores = [_cluster(f"c{i}", {name: float(v) for name, v in zip(NAMES, rng.random(len(NAMES)) ** 3)})
                  for i in range(n)]
        calibrate(scores, ScoringParams())
        flagged += sum(s.score >= 50 for s in scores)
    assert flagged <= 22


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.floats(0, 1), min_size=len(NAMES), max_size=len(NAMES)), min_size=2, max_size=30),
       st.integers(0, len(NAMES) - 1), st.floats(0, 1))
def test_more_of_a_measurement_never_lowers_the_score(rows, which, more):
    def scored(table):
        scores = [_cluster(f"c{i}", dict(zip(NAMES, row))) for i, row in enumerate(table)]
        calibrate(scores, ScoringParams())
        return scores[0].score

    raised = [list(rows[0]), *rows[1:]]
    raised[0][which] = max(rows[0][which], more)
    assert scored(raised) >= scored(rows) - 0.1  # within the grid's rounding
