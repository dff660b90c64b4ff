"""The triage queue (home page): flagged campaigns without a decision, highest score first, with what changed
since the run before — on runs stored by detection's own statements, over two runs."""
from __future__ import annotations

import json

import pytest

from app import auth, create_app
from graph import db

from webtools import PASSWORD, csrf_token, login


def _campaign(cid, score, size, event, related=(), flagged=None):
    return {"campaign_id": cid, "score": score, "flagged": score >= 50 if flagged is None else flagged,
            "size": size, "evidence": [f"{size} accounts share a card <b>{cid}</b>", "second line"],
            "contributions": json.dumps({"shared_payment": 30.0}),
            "accounting": json.dumps({"accounts": size, "requests": size * 10, "capabilities": {"coding": 1.0}}),
            "requests": size * 10, "first_activity": "2026-04-22T00:00:00Z", "last_activity": "2026-06-05T00:00:00Z",
            "event": event, "related": list(related)}


def _run(run_id, started, campaigns):
    db.run("detect/save_run", run_id=run_id, started_at=started, engine="gds", accounts=100, linkage_edges=10,
           evidence_since=None, flagged_campaigns=sum(c["flagged"] for c in campaigns), parameters="{}",
           campaigns=campaigns)
    db.run("detect/complete_run", run_id=run_id)


@pytest.fixture
def app(empty_db):
    _run("run-1", "2026-06-01T00:00:00Z", [_campaign("cmp-grows", 70.0, 10, "new"),
                                           _campaign("cmp-absorbed", 60.0, 5, "new"),
                                           _campaign("cmp-decided", 95.0, 8, "new")])
    _run("run-2", "2026-06-02T00:00:00Z", [_campaign("cmp-grows", 80.0, 17, "grown"),
                                           _campaign("cmp-merger", 65.0, 30, "merged", ["cmp-absorbed"]),
                                           _campaign("cmp-fresh", 90.0, 4, "new"),
                                           _campaign("cmp-decided", 95.0, 8, "unchanged"),
                                           _campaign("cmp-quiet", 20.0, 3, "new")])
    empty_db.execute_query("MATCH (c:Campaign {campaign_id: 'cmp-absorbed'}) SET c.active = false")
    # graph/act/related.py tied two clusters as possibly one operator
    empty_db.execute_query("MATCH (a:Campaign {campaign_id: 'cmp-fresh'}), (b:Campaign {campaign_id: 'cmp-grows'}) "
                           "CREATE (a)-[:RELATED_TO {reasons: ['shared families'], strength: 4.2, run_id: 'run-2'}]->(b)")
    auth.save_user("ana", "analyst", PASSWORD)
    auth.save_user("vera", "viewer", PASSWORD)
    return create_app({"TESTING": True})


def test_queue_lists_undecided_flagged_campaigns_by_score_with_their_change(app):
    analyst = app.test_client()
    login(analyst, "ana")
    token = csrf_token(analyst, "/")
    assert analyst.post("/cases/campaign/cmp-decided", data={"status": "confirmed", "csrf_token": token}).status_code == 302
    assert analyst.post("/cases/campaign/cmp-grows", data={"status": "triage", "assignee": "ana",
                                                          "csrf_token": token}).status_code == 302
    client = app.test_client()
    login(client, "vera")
    data = client.get("/api/triage").get_json()
    rows = {r["campaign_id"]: r for r in data["campaigns"]}
    # decided (confirmed), unflagged (score 20) and inactive campaigns are not in the queue
    assert [r["campaign_id"] for r in data["campaigns"]] == ["cmp-fresh", "cmp-grows", "cmp-merger"]
    assert rows["cmp-fresh"]["change"] == "new"
    assert rows["cmp-grows"]["change"] == "grown by 7" and rows["cmp-grows"]["previous_size"] == 10
    assert rows["cmp-merger"]["change"] == "merged with cmp-absorbed"
    assert rows["cmp-grows"]["case_status"] == "triage" and rows["cmp-grows"]["assignee"] == "ana"
    assert rows["cmp-fresh"]["case_status"] == "new" and rows["cmp-fresh"]["assignee"] is None
    assert rows["cmp-grows"]["size"] == 17 and rows["cmp-grows"]["requests"] == 170
    assert rows["cmp-grows"]["headline"] == "17 accounts share a card <b>cmp-grows</b>"
    assert rows["cmp-fresh"]["operator_peers"] == [{"campaign_id": "cmp-grows", "strength": 4.2}]
    assert rows["cmp-grows"]["operator_peers"] == [{"campaign_id": "cmp-fresh", "strength": 4.2}]
    assert rows["cmp-merger"]["operator_peers"] == []
    assert [q["name"] for q in data["cypher"]] == ["ui/campaign_cases", "ui/triage_queue", "ui/latest_run"]

    page = client.get("/").get_data(as_text=True)
    assert page.index("cmp-fresh") < page.index("cmp-grows") < page.index("cmp-merger")
    assert "grown by 7" in page and "merged with cmp-absorbed" in page
    assert page.count("possibly one operator with") == 2
    assert "&lt;b&gt;cmp-grows&lt;/b&gt;" in page and "<b>cmp-grows" not in page  # evidence is text
    assert "Show the Cypher" in page and "cypher/ui/triage_queue.cypher" in page
    assert "cmp-decided" not in page.split("Show the Cypher")[0]


def test_queue_filters_are_applied_and_kept_in_the_form_and_links(app):
    client = app.test_client()
    login(client, "ana")
    token = csrf_token(client, "/")
    client.post("/cases/campaign/cmp-grows", data={"status": "triage", "assignee": "ana", "csrf_token": token})

    def ids(query):
        return [r["campaign_id"] for r in client.get("/api/triage" + query).get_json()["campaigns"]]

    assert ids("?status=triage") == ["cmp-grows"]
    assert ids("?status=new") == ["cmp-decided", "cmp-fresh", "cmp-merger"]  # nothing decided in this test
    assert ids("?lineage=merged") == ["cmp-merger"]
    assert ids("?assignee=me") == ["cmp-grows"]
    assert ids("?assignee=nobody") == ["cmp-decided", "cmp-fresh", "cmp-merger"]
    assert ids("?min_score=85") == ["cmp-decided", "cmp-fresh"]
    assert ids("?capability=chat") == []
    page = client.get("/?lineage=merged&assignee=nobody&min_score=60").get_data(as_text=True)
    assert "cmp-merger" in page and "cmp-fresh" not in page
    assert '<option selected>merged</option>' in page
    assert 'name="assignee" value="nobody"' in page and 'name="min_score" type="number" min="0" max="100" ' \
        'step="1" value="60"' in page
    assert "/api/triage?lineage=merged&amp;assignee=nobody&amp;min_score=60" in page


def test_queue_before_any_detection_run_says_what_to_do(empty_db):
    auth.save_user("vera", "viewer", PASSWORD)
    client = create_app({"TESTING": True}).test_client()
    login(client, "vera")
    page = client.get("/").get_data(as_text=True)
    assert "No completed detection run yet" in page and "Nothing to decide" in page
    assert client.get("/api/triage").get_json()["campaigns"] == []
