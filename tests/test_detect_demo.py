"""End to end on the demo world: simulate → load → detect → evaluate, both engines, stable ids on a rerun."""
from __future__ import annotations

import csv
import json

import pytest

from app.cli import main
from graph import db
from graph.detect import communities, linkage, pipeline
from graph.detect.evaluate import nmi

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_world(demo_bundle):
    bundle = demo_bundle
    db.wipe()
    db.apply_schema()
    assert main(["load", str(bundle), "--quiet", "--rejects", str(bundle.parent / "rejects.csv")]) == 0
    accounts = db.driver().execute_query("MATCH (a:Account) RETURN count(a) AS n").records[0]["n"]
    assert accounts == sum(1 for _ in csv.DictReader((bundle / "accounts.csv").open()))
    return bundle


def test_demo_world_campaigns_are_found_explained_and_stable(demo_world, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["detect", "--export", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "flagged as campaigns" in printed and "clusters would show this much evidence by chance" in printed

    assert main(["evaluate", "--truth", str(demo_world / "truth.csv"), "--detected", str(out / "accounts.csv")]) == 0
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

    # a second run, with the other engine, keeps every campaign id
    rerun = pipeline.run("local")
    assert {cid for cid, s in rerun.campaigns if s.score >= rerun.flag_threshold} == {c["id"] for c in flagged}
    assert {rerun.lineage.clusters[s.cluster].event for cid, s in rerun.campaigns if s.score >= 50} == {"unchanged"}


def test_demo_world_engines_agree(demo_world):
    assert linkage.build().edges > 100_000
    gds, local = communities.detect("gds"), communities.detect("local")

    assert set(map(frozenset, gds.groups("components"))) == set(map(frozenset, local.groups("components")))
    accounts = sorted(gds.communities)
    assert nmi([gds.communities[a] for a in accounts], [local.communities[a] for a in accounts]) >= 0.9
