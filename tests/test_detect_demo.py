"""End to end on the demo world: simulate → load → detect → evaluate, both engines, stable ids on a rerun.
The world is the shared `demo_detected` one (tests/conftest.py)."""
from __future__ import annotations

import csv
import json

import pytest

from app.cli import main
from graph import db
from graph.detect import communities, linkage, pipeline
from graph.detect.evaluate import nmi

pytestmark = pytest.mark.slow


@pytest.fixture
def demo_world(demo_detected):
    """The demo world loaded and detected once with `linkwatch detect --export` (shared: conftest.demo_detected)."""
    return demo_detected


def test_demo_world_campaigns_are_found_and_explained(demo_world, capsys):
    accounts = db.driver().execute_query("MATCH (a:Account) RETURN count(a) AS n").records[0]["n"]
    assert accounts == sum(1 for _ in csv.DictReader((demo_world.bundle / "accounts.csv").open()))
    assert "flagged as campaigns" in demo_world.printed
    assert "clusters would show this much evidence by chance" in demo_world.printed

    out = demo_world.detection
    assert main(["evaluate", "--truth", str(demo_world.bundle / "truth.csv"),
                 "--detected", str(out / "accounts.csv")]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["accounts"] == 5000 and metrics["campaigns"] == 4
    assert metrics["campaign_recall"] >= 0.95
    assert metrics["precision"] >= 0.95 and metrics["recall"] >= 0.95
    assert metrics["benign_false_positive_rate"] <= 0.002
    assert metrics["nmi"] >= 0.9

    exported = json.loads((out / "campaigns.json").read_text())
    flagged = [c for c in exported["campaigns"] if c["flagged"]]
    assert all(c["evidence"] and c["accounting"]["requests"] > 0 for c in flagged)
    assert all(c["event"] == "new" for c in exported["campaigns"])


@pytest.mark.changes_demo_world  # rebuilds the linkage with the default parameters
def test_demo_world_engines_agree(demo_world):
    stored = linkage.build().edges
    gds, local = communities.detect("gds"), communities.detect("local")
    # both engines read the same pairs: the stored links and the weak ones computed on the way (not stored)
    assert gds.links == local.links > 80_000 > stored

    assert set(map(frozenset, gds.groups("components"))) == set(map(frozenset, local.groups("components")))
    accounts = sorted(gds.communities)
    assert nmi([gds.communities[a] for a in accounts], [local.communities[a] for a in accounts]) >= 0.9


@pytest.mark.changes_demo_world
def test_a_second_run_with_the_other_engine_keeps_every_campaign_id(demo_world):
    exported = json.loads((demo_world.detection / "campaigns.json").read_text())
    flagged = {c["id"] for c in exported["campaigns"] if c["flagged"]}
    rerun = pipeline.run("local")
    assert {cid for cid, s in rerun.campaigns if s.score >= rerun.flag_threshold} == flagged
    assert {rerun.lineage.clusters[s.cluster].event for cid, s in rerun.campaigns
            if s.score >= rerun.flag_threshold} == {"unchanged"}
