"""Fast first view: when a detection run completes, the server builds the page cache of the triage queue and the
top campaigns in the background (app/warmup.py), so the first analyst to open them does not wait."""
from __future__ import annotations

import json
import time

from app import auth, create_app, warmup
from graph import db

from webtools import PASSWORD, login


def _campaign(cid, score):
    return {"campaign_id": cid, "score": score, "flagged": score >= 50, "size": 2, "evidence": [f"{cid} evidence"],
            "contributions": "{}", "accounting": json.dumps({"accounts": 2}), "requests": 10,
            "first_activity": "2026-04-22T00:00:00Z", "last_activity": "2026-06-05T00:00:00Z", "event": "new",
            "related": []}


def _run(run_id, campaigns):
    db.run("detect/save_run", run_id=run_id, started_at="2026-06-01T00:00:00Z", engine="gds", accounts=6,
           linkage_edges=3, evidence_since=None, flagged_campaigns=len(campaigns), parameters="{}",
           campaigns=campaigns)
    db.run("detect/add_members", rows=[{"campaign_id": c["campaign_id"], "account_id": f"{c['campaign_id']}-{i}"}
                                       for c in campaigns for i in range(2)])
    db.run("detect/complete_run", run_id=run_id)


def _cached_keys(app) -> set[tuple]:
    return set(app.extensions["linkwatch_run_cache"]._entries)


def test_a_new_run_is_warmed_once_in_the_background(empty_db):
    empty_db.execute_query("UNWIND ['cmp-a', 'cmp-b', 'cmp-c'] AS c UNWIND range(0, 1) AS i "
                           "CREATE (:Account {account_id: c + '-' + i})")
    _run("run-1", [_campaign("cmp-a", 90.0), _campaign("cmp-b", 70.0), _campaign("cmp-c", 60.0)])
    app = create_app({"TESTING": True, "RUN_CACHE_CHECK_S": 0.0})
    warmer = warmup.Warmer(app, campaigns=2, check_s=0.1)
    assert warmer.check_once() is True
    assert warmer.last_warmed == ["cmp-a", "cmp-b"]  # the top two of the queue, highest score first
    keys = _cached_keys(app)
    assert ("triage", 0.0) in keys
    for cid in ("cmp-a", "cmp-b"):
        assert {("campaign", cid), ("members", cid, 1), ("drawing", cid), ("charts", cid),
                ("campaign.html", cid, 1)} <= keys
    assert ("campaign", "cmp-c") not in keys
    assert warmer.check_once() is False  # the same run is not warmed twice

    # the first view is served from what the warmer built, and lists the same statements
    auth.save_user("vera", "viewer", PASSWORD)
    client = app.test_client()
    login(client, "vera")
    entries_before = dict(app.extensions["linkwatch_run_cache"]._entries)
    data = client.get("/api/campaigns/cmp-a").get_json()
    assert data["campaign"]["evidence"] == ["cmp-a evidence"]
    assert "ui/campaign" in [q["name"] for q in data["cypher"]]
    assert app.extensions["linkwatch_run_cache"]._entries[("campaign", "cmp-a")] is entries_before[("campaign", "cmp-a")]
    assert "cmp-a" in client.get("/").get_data(as_text=True)

    # a new completed run: the cache of the old one is dropped and the new one warmed, in the background thread
    _run("run-2", [_campaign("cmp-c", 95.0)])
    warmer.start()
    try:
        deadline = time.monotonic() + 60
        while (warmer.warmed_run or ("",))[0] != "run-2" and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        warmer.stop()
    # cmp-a and cmp-b are still active (this run ended nothing): the queue is cmp-c (95), cmp-a (90), cmp-b (70)
    assert warmer.warmed_run[0] == "run-2" and warmer.last_warmed == ["cmp-c", "cmp-a"]
    assert ("campaign.html", "cmp-c", 1) in _cached_keys(app)


def test_serve_starts_the_warmer_and_tests_do_not(empty_db):
    assert "linkwatch_warmer" not in create_app({"TESTING": True}).extensions
    app = create_app({"TESTING": True, "WARM_CACHE": True})
    try:
        assert app.extensions["linkwatch_warmer"]._thread.is_alive()
    finally:
        app.extensions["linkwatch_warmer"].stop()
