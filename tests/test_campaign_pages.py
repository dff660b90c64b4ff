"""Campaigns dashboard, campaign detail, exports and cases — on campaigns stored by detection's own statements."""
from __future__ import annotations

import csv
import io
import json

import pytest

from app import auth, create_app
from graph import db

from webtools import PASSWORD, bearer, csrf_token, login as _login


def _campaign(cid, score, size, requests, capabilities, event="new"):
    return {"campaign_id": cid, "score": score, "flagged": score >= 50, "size": size,
            "evidence": [f"{size} accounts share 2 payment methods", f"{size} accounts, {requests} requests"],
            "contributions": json.dumps({"shared_payment": 30.0, "benign_organization": -5.0}),
            "accounting": json.dumps({"accounts": size, "requests": requests, "capabilities": capabilities,
                                      "requests_per_account": requests / size}),
            "requests": requests, "first_activity": "2026-04-22T00:00:00Z", "last_activity": "2026-06-05T00:00:00Z",
            "event": event, "related": []}


@pytest.fixture
def client(empty_db):
    empty_db.execute_query(
        "UNWIND range(1, 6) AS i CREATE (a:Account {account_id: 'c' + i, requests: 100 * i,"
        " activity_days: ['2026-04-22', '2026-04-23'], activity_counts: [i, 10],"
        " created_at: datetime('2026-04-2' + toString(i % 3) + 'T08:00:00Z')})"
        " WITH collect(a) AS accounts CREATE (pm:PaymentMethod {value: 'pm_x'})"
        " FOREACH (a IN accounts[0..4] | CREATE (a)-[:HAS_IDENTIFIER {kind: 'payment'}]->(pm))"
        " CREATE (:Account {account_id: 'b1', org: 'Acme'})"
    )
    db.run("detect/save_run", run_id="run-1", started_at="2026-06-06T00:00:00Z", engine="gds", accounts=7,
           linkage_edges=10, evidence_since=None, flagged_campaigns=1, parameters="{}",
           campaigns=[_campaign("cmp-big", 91.5, 6, 2100, {"reasoning": 0.8, "coding": 0.2}),
                      _campaign("cmp-small", 12.0, 1, 10, {"chat": 1.0})])
    db.run("detect/add_members", rows=[{"campaign_id": "cmp-big", "account_id": f"c{i}"} for i in range(1, 7)]
           + [{"campaign_id": "cmp-small", "account_id": "b1"}])
    # per-account scores, as detection sets them (the campaign's score scaled by cohesion)
    empty_db.execute_query("MATCH (c:Campaign)-[m:INCLUDES]->(a:Account) "
                           "SET m.cohesion = 1.0 - toInteger(substring(a.account_id, 1)) / 10.0, "
                           "m.score = round(c.score * (1.5 - toInteger(substring(a.account_id, 1)) / 10.0) / 1.5, 1)")
    auth.save_user("ana", "analyst", PASSWORD)
    auth.save_user("vera", "viewer", PASSWORD)
    return create_app({"TESTING": True}).test_client()


def test_dashboard_filters_sorts_and_pages(client):
    _login(client, "vera")
    flagged = client.get("/api/campaigns").get_json()
    assert [c["campaign_id"] for c in flagged["campaigns"]] == ["cmp-big"]
    everything = client.get("/api/campaigns?flagged=0&sort=size&order=asc").get_json()
    assert [c["campaign_id"] for c in everything["campaigns"]] == ["cmp-small", "cmp-big"]
    assert everything["campaigns"][1]["lineage"] == "new" and everything["campaigns"][1]["case_status"] == "new"
    by_capability = client.get("/api/campaigns?flagged=0&capability=reasoning").get_json()
    assert [c["campaign_id"] for c in by_capability["campaigns"]] == ["cmp-big"]
    page = client.get("/campaigns?flagged=0").get_data(as_text=True)
    assert page.index("cmp-big") < page.index("cmp-small")
    assert "6 accounts share 2 payment methods" in page


def test_campaign_detail_has_evidence_network_members_and_export(client):
    _login(client, "vera")
    data = client.get("/api/campaigns/cmp-big").get_json()
    assert data["campaign"]["evidence"][0] == "6 accounts share 2 payment methods"
    assert data["campaign"]["contributions"] == {"shared_payment": 30.0, "benign_organization": -5.0}
    assert len(data["members"]) == 6 and data["members"][0]["score"] >= data["members"][-1]["score"]
    assert [(s["value"], len(s["users"])) for s in data["shared"]] == [("pm_x", 4)]
    assert data["network"]["total"] == 7  # 6 members + the shared card
    assert len(data["network"]["edges"]) == 4
    assert sum(d["accounts"] for d in data["creation"]) == 6
    assert data["activity"] == [{"day": "2026-04-22", "requests": 21}, {"day": "2026-04-23", "requests": 60}]
    page = client.get("/campaigns/cmp-big").get_data(as_text=True)
    assert "data-network=" in page and "/vendor/vis/vis-network.min.js" in page
    assert page.count('<title>2026-04-2') == 2 + 3  # timeline: two activity days, three creation days
    assert "No per-model usage loaded" in page and data["model_days"] == []  # no USED_MODEL edges: no model mix
    rows = list(csv.DictReader(io.StringIO(client.get("/campaigns/cmp-big/members.csv").get_data(as_text=True))))
    assert sorted(r["account_id"] for r in rows) == [f"c{i}" for i in range(1, 7)]
    assert client.get("/campaigns/nope").status_code == 404


def test_cases_record_status_assignee_notes_and_audit(client):
    _login(client, "vera")
    page = client.get("/campaigns/cmp-big").get_data(as_text=True)
    assert 'name="status"' not in page  # viewers read, analysts decide
    token = csrf_token(client, "/campaigns/cmp-big")
    assert client.post("/cases/campaign/cmp-big", data={"status": "confirmed", "csrf_token": token}).status_code == 403

    analyst = create_app({"TESTING": True}).test_client()
    _login(analyst, "ana")
    token = csrf_token(analyst, "/campaigns/cmp-big")
    saved = analyst.post("/cases/campaign/cmp-big", data={"status": "confirmed", "assignee": "ana",
                                                          "note": "4 accounts on one card", "csrf_token": token})
    assert saved.status_code == 302
    data = analyst.get("/api/campaigns/cmp-big").get_json()
    assert data["case"]["status"] == "confirmed" and data["case"]["assignee"] == "ana"
    assert [n["text"] for n in data["notes"]] == ["4 accounts on one card"]
    actions = sorted(e["action"] for e in data["case_history"])
    assert actions == ["case.note", "case.update"]
    update = next(e for e in data["case_history"] if e["action"] == "case.update")
    assert update["user"] == "ana" and update["details"]["status"] == ["new", "confirmed"]
    dashboard = analyst.get("/api/campaigns?status=confirmed").get_json()
    assert [(c["campaign_id"], c["case_status"], c["assignee"]) for c in dashboard["campaigns"]] == \
        [("cmp-big", "confirmed", "ana")]
    bad = analyst.post("/cases/campaign/cmp-big", json={"status": "closed"},
                       headers={"X-CSRFToken": token})
    assert bad.status_code == 400 and "unknown status" in bad.get_json()["error"]
    missing = analyst.post("/cases/campaign/cmp-none", json={"status": "triage"}, headers={"X-CSRFToken": token})
    assert missing.status_code == 400 and missing.get_json()["error"] == "no campaign 'cmp-none'"


def _cached_client(name: str):
    """A client of an app that looks for a newer detection run on every request (production: once a second)."""
    cached = create_app({"TESTING": True, "RUN_CACHE_CHECK_S": 0}).test_client()
    _login(cached, name)
    return cached


def test_campaign_pages_are_built_once_per_detection_run(client, empty_db):
    db.run("detect/complete_run", run_id="run-1")  # detection's last step: the run may be cached
    cached = _cached_client("ana")
    first = cached.get("/api/campaigns/cmp-big").get_json()
    assert first["campaign"]["evidence"][1] == "6 accounts, 2100 requests"
    assert "6 accounts, 2100 requests" in cached.get("/campaigns/cmp-big").get_data(as_text=True)
    assert cached.get("/api/campaigns").get_json()["campaigns"][0]["score"] == 91.5

    # A change that is not a detection run stays unseen: the run's pages were built once.
    empty_db.execute_query("MATCH (c:Campaign {campaign_id: 'cmp-big'}) "
                           "SET c.evidence = ['edited outside a run'], c.score = 95.0")
    assert cached.get("/api/campaigns/cmp-big").get_json() == first  # "cypher" included: replayed from the cache
    page = cached.get("/campaigns/cmp-big").get_data(as_text=True)
    assert "6 accounts, 2100 requests" in page and "edited outside a run" not in page
    assert "Show the Cypher" in page and "cypher/ui/campaign_shared.cypher" in page
    assert cached.get("/api/campaigns").get_json()["campaigns"][0]["score"] == 91.5
    # ... while another process (with a cache of its own) that had not built the page yet reads the edit
    _login(client, "vera")
    assert client.get("/api/campaigns/cmp-big").get_json()["campaign"]["evidence"] == ["edited outside a run"]

    # A case change shows on the next request.
    token = csrf_token(cached, "/campaigns/cmp-big")
    assert cached.post("/cases/campaign/cmp-big", data={"status": "triage", "assignee": "ana", "note": "looking",
                                                        "csrf_token": token}).status_code == 302
    data = cached.get("/api/campaigns/cmp-big").get_json()
    assert (data["case"]["status"], data["case"]["assignee"]) == ("triage", "ana")
    assert [n["text"] for n in data["notes"]] == ["looking"]
    assert sorted(e["action"] for e in data["case_history"]) == ["case.note", "case.update"]
    page = cached.get("/campaigns/cmp-big").get_data(as_text=True)
    assert "case: triage · assigned to ana" in page and "<p>looking</p>" in page
    row = cached.get("/api/campaigns").get_json()["campaigns"][0]
    assert (row["case_status"], row["assignee"]) == ("triage", "ana")

    # A new detection run replaces what the pages show.
    db.run("detect/save_run", run_id="run-2", started_at="2026-06-07T00:00:00Z", engine="gds", accounts=7,
           linkage_edges=12, evidence_since=None, flagged_campaigns=1, parameters="{}",
           campaigns=[{**_campaign("cmp-big", 93.0, 6, 2400, {"reasoning": 1.0}), "event": "grown"}])
    # not completed yet: the pages keep showing run-1 while run-2 is being written
    assert cached.get("/api/campaigns/cmp-big").get_json()["campaign"]["score"] == 91.5
    db.run("detect/complete_run", run_id="run-2")
    data = cached.get("/api/campaigns/cmp-big").get_json()
    assert data["campaign"]["evidence"][1] == "6 accounts, 2400 requests" and data["campaign"]["score"] == 93.0
    assert [h["run"] for h in data["history"]] == ["run-1", "run-2"]
    assert data["case"]["status"] == "triage"
    row = cached.get("/api/campaigns").get_json()["campaigns"][0]
    assert (row["score"], row["lineage"], row["case_status"]) == (93.0, "grown", "triage")
    assert "6 accounts, 2400 requests" in cached.get("/campaigns/cmp-big").get_data(as_text=True)


def test_seeded_investigation_ranks_linked_accounts_with_paths(client, empty_db):
    # s1 -card- x1 -card- x2 ; y1 linked to s1 only through a weak template link
    empty_db.execute_query(
        """
        CREATE (s1:Account {account_id: 's1'}), (x1:Account {account_id: 'x1'}), (x2:Account {account_id: 'x2'}),
               (y1:Account {account_id: 'y1'}), (pm:PaymentMethod {value: 'pm_ring'}),
               (s1)-[:HAS_IDENTIFIER {kind: 'payment'}]->(pm), (x1)-[:HAS_IDENTIFIER {kind: 'payment'}]->(pm),
               (s1)-[:LINKED {kind: 'payment', weight: 1.0, strong: 1.0}]->(x1),
               (x1)-[:LINKED {kind: 'payment', weight: 1.0, strong: 1.0}]->(x2),
               (s1)-[:LINKED {kind: 'template', weight: 0.05, strong: 0.0}]->(y1)
        """
    )
    analyst = create_app({"TESTING": True}).test_client()
    headers = bearer("ana")
    result = analyst.post("/api/investigate", json={"seeds": ["s1"], "top": 3}, headers=headers).get_json()
    assert [lead["account"] for lead in result["leads"]][:2] == ["x1", "x2"]
    assert result["leads"][0]["score"] == 1.0
    assert result["leads"][0]["path"] == [{"from": "s1", "to": "x1", "shared": ["PaymentMethod pm_ring"]}]
    unknown = analyst.post("/api/investigate", json={"seeds": ["ghost"]}, headers=headers)
    assert unknown.status_code == 400 and "ghost" in unknown.get_json()["error"]
    viewer = analyst.post("/api/investigate", json={"seeds": ["s1"]},
                          headers=bearer("vera"))
    assert viewer.status_code == 403


def test_timeline_shows_the_model_mix_per_day_from_used_model_edges(client, empty_db):
    # the loader's per-account model use (USED_MODEL: days and counts are parallel lists): c1 and c2 move from
    # model-a to model-b on the second day
    empty_db.execute_query(
        "MATCH (a:Account) WHERE a.account_id IN ['c1', 'c2'] "
        "MERGE (ma:Model {name: 'model-a'}) MERGE (mb:Model {name: 'model-<b>'}) "
        "CREATE (a)-[:USED_MODEL {requests: 12, days: ['2026-04-22'], counts: [12]}]->(ma), "
        "       (a)-[:USED_MODEL {requests: 20, days: ['2026-04-22', '2026-04-23'], counts: [2, 18]}]->(mb)")
    _login(client, "vera")
    data = client.get("/api/campaigns/cmp-big").get_json()
    assert data["model_days"] == [{"day": "2026-04-22", "model": "model-<b>", "requests": 4},
                                  {"day": "2026-04-22", "model": "model-a", "requests": 24},
                                  {"day": "2026-04-23", "model": "model-<b>", "requests": 36}]
    rows = {row["title"]: row for row in data["timeline"]["rows"]}
    assert set(rows) == {"accounts created", "requests", "model mix"}
    mix = [b["title"] for b in rows["model mix"]["bars"]]
    assert mix == ["2026-04-22: model-<b> 4 of 28 requests", "2026-04-22: model-a 24 of 28 requests",
                   "2026-04-23: model-<b> 36 of 36 requests"]
    # one time axis: the same day is at the same x in every row
    x_of = {(row["title"], b["title"][:10]): b["x"] for row in data["timeline"]["rows"] for b in row["bars"]}
    assert x_of[("requests", "2026-04-23")] == x_of[("model mix", "2026-04-23")]
    page = client.get("/campaigns/cmp-big").get_data(as_text=True)
    assert "model-&lt;b&gt;" in page and "model-<b>" not in page
    assert "No per-model usage loaded" not in page
