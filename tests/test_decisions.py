"""Decisions keep their evidence: deciding a campaign's case stores a snapshot that a later detection run does
not change; the campaign page shows it beside the live campaign, and the enforcement export lists its accounts."""
from __future__ import annotations

import csv
import io
import json
import os

import pytest

from app import auth, create_app
from graph import cases, db

from test_browser import CHROMIUM
from webtools import PASSWORD, artifacts_dir, browser_session, csrf_token, live_server, login


def _campaign(cid, score, size, event):
    return {"campaign_id": cid, "score": score, "flagged": True, "size": size,
            "evidence": [f"{size} accounts share a card", "=HYPERLINK(\"http://x\")"],
            "contributions": json.dumps({"shared_payment": score - 10, "young_accounts": 10.0}),
            "accounting": json.dumps({"accounts": size, "requests": size * 10}), "requests": size * 10,
            "first_activity": "2026-04-22T00:00:00Z", "last_activity": "2026-06-05T00:00:00Z",
            "event": event, "related": []}


def _detection_run(run_id, started, campaign, members):
    """What `linkwatch detect` writes for one campaign, with its own statements, in its order."""
    db.run("detect/save_run", run_id=run_id, started_at=started, engine="gds", accounts=len(members),
           linkage_edges=10, evidence_since=None, flagged_campaigns=1, parameters="{}", campaigns=[campaign])
    db.run("detect/clear_members", campaign_ids=[campaign["campaign_id"]])
    db.run("detect/add_members", rows=[{"campaign_id": campaign["campaign_id"], "account_id": a} for a in members])
    db.run("detect/complete_run", run_id=run_id)


FIRST = [f"a{i}" for i in range(5)] + ["=cmd|' /C calc'!A0"]
SECOND = [f"a{i}" for i in range(1, 9)]  # a0 and the hostile id left, a5..a8 joined


@pytest.fixture
def app(empty_db):
    empty_db.execute_query("UNWIND $ids AS id CREATE (:Account {account_id: id})", ids=sorted(set(FIRST + SECOND)))
    _detection_run("run-1", "2026-06-01T00:00:00Z", _campaign("cmp-1", 78.0, 6, "new"), FIRST)
    auth.save_user("ana", "analyst", PASSWORD)
    auth.save_user("vera", "viewer", PASSWORD)
    return create_app({"TESTING": True, "RUN_CACHE_CHECK_S": 0.0})


def _decide(client, status):
    token = csrf_token(client, "/campaigns/cmp-1")
    return client.post("/cases/campaign/cmp-1", data={"status": status, "note": "ban them", "csrf_token": token})


def test_snapshot_survives_a_second_run_and_shows_beside_the_live_campaign(app):
    client = app.test_client()
    login(client, "ana")
    assert client.get("/api/campaigns/cmp-1").get_json()["decision"] is None
    assert _decide(client, "triage").status_code == 302
    assert cases.decisions("cmp-1") == []  # triage is not a decision
    assert _decide(client, "confirmed").status_code == 302
    assert _decide(client, "confirmed").status_code == 302  # saving the same decision again adds no snapshot
    assert len(cases.decisions("cmp-1")) == 1

    before = client.get("/api/campaigns/cmp-1").get_json()["decision"]
    assert before["now"] == {"run_id": "run-1", "size": 6, "score": 78.0, "joined": 0, "left": 0}
    assert before["changed"] is False

    _detection_run("run-2", "2026-06-02T00:00:00Z", _campaign("cmp-1", 81.0, 8, "grown"), SECOND)

    data = client.get("/api/campaigns/cmp-1").get_json()
    assert data["campaign"]["size"] == 8 and data["campaign"]["score"] == 81.0  # the live campaign changed
    decision = data["decision"]
    assert decision["decision"] == "confirmed" and decision["decided_by"] == "ana"
    assert decision["run_id"] == "run-1" and decision["score"] == 78.0 and decision["size"] == 6
    assert decision["accounts"] == 6
    assert decision["evidence"] == ["6 accounts share a card", "=HYPERLINK(\"http://x\")"]
    assert decision["contributions"] == {"shared_payment": 68.0, "young_accounts": 10.0}
    assert decision["now"] == {"run_id": "run-2", "size": 8, "score": 81.0, "joined": 4, "left": 2}
    assert decision["changed"] is True

    page = client.get("/campaigns/cmp-1").get_data(as_text=True)
    assert "At decision:</strong> 6 accounts, score 78.0" in page
    assert "8 accounts, score 81.0" in page and "+4 accounts since" in page and "−2 left" in page
    assert "cypher/ui/case_decisions.cypher" in page

    # a later decision is a new snapshot of the new run; the first one is kept
    assert _decide(client, "dismissed").status_code == 302
    assert _decide(client, "confirmed").status_code == 302
    history = cases.decisions("cmp-1")
    assert [d["decision"] for d in history] == ["confirmed", "dismissed", "confirmed"]
    assert [d["run_id"] for d in history] == ["run-2", "run-2", "run-1"] and history[-1]["accounts"] == 6


def test_enforcement_export_lists_the_decided_accounts_formula_safe(app):
    client = app.test_client()
    login(client, "ana")
    assert client.get("/campaigns/cmp-1/enforcement.csv").status_code == 404  # nothing decided yet
    _decide(client, "confirmed")
    _detection_run("run-2", "2026-06-02T00:00:00Z", _campaign("cmp-1", 81.0, 8, "grown"), SECOND)

    viewer = app.test_client()
    login(viewer, "vera")
    data = viewer.get("/api/campaigns/cmp-1/enforcement").get_json()
    assert sorted(data["account_ids"]) == sorted(FIRST)  # the accounts decided on, not today's members
    assert data["decision"] == "confirmed" and data["decided_by"] == "ana" and data["case_id"] == "campaign:cmp-1"
    response = viewer.get("/campaigns/cmp-1/enforcement.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 6
    assert {r["decision"] for r in rows} == {"confirmed"} and {r["decided_by"] for r in rows} == {"ana"}
    assert {r["run_id"] for r in rows} == {"run-1"} and {r["case_id"] for r in rows} == {"campaign:cmp-1"}
    assert all(r["decided_at"] == data["decided_at"] for r in rows)
    # a hostile id is data: the cell cannot start a formula
    assert not any(line.startswith(("=", "+", "-", "@")) for line in text.splitlines())
    hostile = [r["account_id"] for r in rows if "calc" in r["account_id"]]
    assert len(hostile) == 1 and not hostile[0].startswith("=")
    assert viewer.get(f"/api/campaigns/cmp-1/enforcement?decision={data['decision_id']}").status_code == 200
    assert viewer.get("/api/campaigns/cmp-1/enforcement?decision=nope").status_code == 404


# ---- the same through real detection runs: a small world, `linkwatch detect` twice ---------------------------

def _operator_world(db_session) -> None:
    """The detection test world (tests/test_detect.py): a 30-account operator on a pool of three cards, a residential
    proxy network and shared templates, a referral ring, a company, households and unrelated people."""
    from test_detect import _world

    _world()


def _grow_the_operator(db_session) -> None:
    """Six new accounts join the operator's cards, proxy network and templates (before a second detection run)."""
    db_session.execute_query("""
      UNWIND range(30, 35) AS i
      CREATE (a:Account {account_id: 'op' + i, requests: 1000, capabilities: ['reasoning'], capability_counts: [1000],
                         hour_profile: [h IN range(0, 23) | CASE WHEN h >= 2 AND h < 6 THEN 250 ELSE 0 END]})
      WITH a MATCH (card:PaymentMethod) WHERE card.value STARTS WITH 'pm_pool_'
      CREATE (a)-[:HAS_IDENTIFIER {kind: 'payment'}]->(card)
      WITH DISTINCT a MATCH (net:ProxyNetwork {name: 'PeerGate'}) CREATE (a)-[:USED_NETWORK {count: 900}]->(net)
      WITH a MATCH (tpl:PromptTemplate) WHERE tpl.template_id STARTS WITH 'cot_' CREATE (a)-[:SENT {n: 300}]->(tpl)""")


def _largest_flagged(queue: list[dict]) -> dict:
    """The operator's campaign: the largest in the triage queue."""
    assert queue, "the operator's accounts are flagged"
    return max(queue, key=lambda c: (c["size"], c["campaign_id"]))


def test_a_decision_survives_a_real_second_detection_run_that_grows_the_campaign(empty_db):
    from app.cli import main

    _operator_world(empty_db)
    assert main(["detect"]) == 0
    auth.save_user("ana", "analyst", PASSWORD)
    client = create_app({"TESTING": True, "RUN_CACHE_CHECK_S": 0.0}).test_client()
    login(client, "ana")
    chosen = _largest_flagged(client.get("/api/triage").get_json()["campaigns"])
    campaign_id, first_score, first_size = chosen["campaign_id"], chosen["score"], chosen["size"]
    first_members = sorted(m["account"] for m in client.get(f"/api/campaigns/{campaign_id}").get_json()["members"])
    assert first_size == len(first_members) >= 10
    token = csrf_token(client, "/")
    assert client.post(f"/cases/campaign/{campaign_id}", data={"status": "confirmed", "csrf_token": token}) \
        .status_code == 302
    assert campaign_id not in [c["campaign_id"] for c in client.get("/api/triage").get_json()["campaigns"]]

    _grow_the_operator(empty_db)
    assert main(["detect"]) == 0

    data = client.get(f"/api/campaigns/{campaign_id}").get_json()
    live_members = {m["account"] for m in data["members"]}
    assert data["campaign"]["size"] == len(live_members) != first_size  # the live campaign changed under its id
    decision = data["decision"]
    assert decision["decision"] == "confirmed" and decision["decided_by"] == "ana"
    assert decision["size"] == decision["accounts"] == first_size and decision["score"] == first_score
    assert decision["run_id"] != data["campaign"]["last_run"]
    joined, left = len(live_members - set(first_members)), len(set(first_members) - live_members)
    assert joined >= 1
    assert decision["now"] == {"run_id": data["campaign"]["last_run"], "size": len(live_members),
                               "score": data["campaign"]["score"], "joined": joined, "left": left}
    assert decision["evidence"] and all(isinstance(line, str) for line in decision["evidence"])
    assert decision["contributions"]  # the score's parts as they were
    page = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert f"At decision:</strong> {first_size} accounts" in page and f"+{joined} accounts since" in page
    exported = client.get(f"/api/campaigns/{campaign_id}/enforcement").get_json()
    assert sorted(exported["account_ids"]) == first_members  # what was decided on, not today's members


@pytest.mark.skipif(CHROMIUM is None and os.environ.get("CI") != "true", reason="Debian's chromium is not installed")
def test_in_a_browser_an_analyst_decides_and_after_the_next_run_sees_what_was_decided_on(empty_db):
    """The same story in a real Chromium against a real server: log in, open the flagged campaign from the triage
    queue, confirm it through the case form; a second `linkwatch detect` grows the campaign; a reload shows the
    decision's numbers beside today's, as the API reports them."""
    from playwright.sync_api import sync_playwright

    from app.cli import main

    _operator_world(empty_db)
    assert main(["detect"]) == 0
    auth.save_user("ana", "analyst", PASSWORD)
    artifacts = artifacts_dir()
    # the server notices a new run on the next request (as `linkwatch serve` does within its one-second check)
    with live_server(create_app({"RUN_CACHE_CHECK_S": 0.0})) as base, sync_playwright() as playwright:
        browser, page, outside = browser_session(playwright, base)

        api = page.request  # the browser's own session: the numbers the page must show
        chosen = _largest_flagged(api.get(f"{base}/api/triage").json()["campaigns"])
        campaign_id = chosen["campaign_id"]
        campaign_url = f"{base}/campaigns/{campaign_id}"
        with page.expect_navigation():
            page.locator("table.triage tbody tr td:first-child a", has_text=campaign_id).first.click()
        assert page.url == campaign_url
        assert page.locator("#decision").count() == 0  # nothing decided yet
        first = api.get(f"{base}/api/campaigns/{campaign_id}").json()
        first_members = {m["account"] for m in first["members"]}
        first_size, first_score = first["campaign"]["size"], first["campaign"]["score"]
        assert first_size == len(first_members) >= 10

        page.select_option("select[name=status]", "confirmed")
        page.fill("input[name=assignee]", "ana")
        page.fill("textarea[name=note]", "one operator on a pool of three cards; ban")
        with page.expect_navigation():
            page.click("form[action^='/cases/'] button[type=submit]")
        assert page.url == campaign_url
        assert "case: confirmed" in page.inner_text("main")
        assert page.inner_text("#decision h2") == "Decision: confirmed"
        assert " ".join(page.inner_text(".decision-compare").split()) == (
            f"At decision: {first_size:,} accounts, score {first_score}; now (run {first['campaign']['last_run']}): "
            f"{first_size:,} accounts, score {first_score} — unchanged since the decision.")

        _grow_the_operator(empty_db)
        assert main(["detect"]) == 0

        page.reload()
        now = api.get(f"{base}/api/campaigns/{campaign_id}").json()
        live_members = {m["account"] for m in now["members"]}
        joined, left = len(live_members - first_members), len(first_members - live_members)
        assert now["campaign"]["last_run"] != first["campaign"]["last_run"] and joined >= 1
        assert now["decision"]["now"] == {"run_id": now["campaign"]["last_run"], "size": len(live_members),
                                          "score": now["campaign"]["score"], "joined": joined, "left": left}
        assert now["campaign"]["size"] == first_size + joined - left != first_size
        compare = " ".join(page.inner_text(".decision-compare").split())
        assert compare == (
            f"At decision: {first_size:,} accounts, score {first_score}; now (run {now['campaign']['last_run']}): "
            f"{len(live_members):,} accounts, score {now['campaign']['score']}, +{joined:,} accounts since, "
            f"\u2212{left:,} left.")
        assert page.inner_text("#decision h2") == "Decision: confirmed"
        assert "by ana" in page.inner_text("#decision")
        page.locator("#decision details summary").click()
        evidence = page.locator(".evidence-list-at-decision li")
        assert evidence.count() == len(now["decision"]["evidence"]) >= 1
        assert evidence.first.inner_text() == now["decision"]["evidence"][0]
        page.screenshot(path=str(artifacts / "decision-after-second-run.png"), full_page=True)

        exported = api.get(f"{base}/api/campaigns/{campaign_id}/enforcement").json()
        assert set(exported["account_ids"]) == first_members  # what was decided on, not today's members
        browser.close()
    assert outside == []
