"""The Reports page: past reports with their change summary, viewable and downloadable; roles and CSRF."""
from __future__ import annotations

import json

import pytest

from app import auth, create_app
from app.cli import main
from graph import db

from webtools import PASSWORD, bearer, csrf_token, login


@pytest.fixture(scope="module")
def reported(_server_ready, tmp_path_factory):
    """A small simulated world, detected twice, with one report written by the CLI."""
    world = tmp_path_factory.mktemp("reports-web") / "world"
    db.wipe()
    db.apply_schema()
    assert main(["simulate", "--scale", "demo", "--seed", "2", "--accounts", "800", "--out", str(world),
                 "--quiet"]) == 0
    assert main(["load", str(world), "--quiet", "--rejects", str(world.parent / "rejects.csv")]) == 0
    assert main(["detect"]) == 0
    assert main(["detect"]) == 0
    assert main(["report"]) == 0
    auth.save_user("ana", "analyst", PASSWORD)
    auth.save_user("vera", "viewer", PASSWORD)
    [record] = db.driver().execute_query("MATCH (r:Report) RETURN r {.*} AS r").records
    return record["r"]


@pytest.fixture
def client(reported):
    return create_app({"TESTING": True}).test_client()


def test_reports_need_login(client, reported):
    assert client.get("/reports").status_code == 302
    assert client.get("/api/reports").status_code == 401
    assert client.get(f"/reports/{reported['report_id']}/files/report.html").status_code in (302, 401)


def test_viewer_lists_and_reads_a_report(client, reported):
    login(client, "vera")
    listing = client.get("/api/reports").get_json()
    [entry] = listing["reports"]
    assert entry["report_id"] == reported["report_id"] and entry["status"] == "ok"
    # the second run changed nothing: every campaign it tracks is unchanged
    campaigns = db.driver().execute_query("MATCH (c:Campaign {active: true}) RETURN count(c) AS n").records[0]["n"]
    assert campaigns >= 1 and entry["summary"]["unchanged"] == campaigns
    assert not any(n for event, n in entry["summary"].items() if event != "unchanged")
    assert set(entry["files"]) == {"report.html", "report.json", "campaigns.csv", "indicators.stix.json"}
    assert [q["name"] for q in listing["cypher"]] == ["reports/list"]

    page = client.get("/reports").get_data(as_text=True)
    assert reported["report_id"] in page and f"{campaigns} unchanged" in page
    assert "Write a report now" not in page  # viewers cannot write reports

    detail = client.get(f"/reports/{reported['report_id']}").get_data(as_text=True)
    assert f'src="/reports/{reported["report_id"]}/files/report.html"' in detail and "sandbox" in detail

    html = client.get(f"/reports/{reported['report_id']}/files/report.html")
    assert html.status_code == 200 and html.mimetype == "text/html"
    assert html.headers["Content-Security-Policy"].startswith("default-src 'none'; img-src data:")
    assert not html.headers.get("Content-Disposition", "").startswith("attachment")
    csv_file = client.get(f"/reports/{reported['report_id']}/files/campaigns.csv?download=1")
    assert csv_file.headers["Content-Disposition"].startswith("attachment; filename=campaigns.csv")
    stix = json.loads(client.get(f"/reports/{reported['report_id']}/files/indicators.stix.json").get_data())
    assert stix["type"] == "bundle"

    assert client.get(f"/reports/{reported['report_id']}/files/..%2F..%2Fneo4j.conf").status_code == 404
    assert client.get(f"/reports/{reported['report_id']}/files/other.txt").status_code == 404
    assert client.get("/reports/no-such-report").status_code == 404
    assert client.get("/reports/no-such-report/files/report.html").status_code == 404


def test_only_analysts_write_reports_and_forms_need_csrf(client, reported):
    login(client, "vera")
    assert client.post("/reports", data={"csrf_token": csrf_token(client, "/reports")}).status_code == 403

    analyst = create_app({"TESTING": True}).test_client()
    login(analyst, "ana")
    assert analyst.post("/reports").status_code == 400  # no CSRF token
    response = analyst.post("/reports", data={"csrf_token": csrf_token(analyst, "/reports")})
    assert response.status_code == 302
    report_id = response.headers["Location"].rsplit("/", 1)[-1]
    record = db.driver().execute_query("MATCH (r:Report {report_id: $id}) RETURN r.trigger AS trigger",
                                       id=report_id).records
    assert record[0]["trigger"] == "web"
    assert db.driver().execute_query("MATCH (e:AuditEvent {action: 'report.generate', subject: $id}) "
                                     "RETURN e.user AS user", id=report_id).records[0]["user"] == "ana"

    # scripts: a bearer token, no CSRF token
    created = create_app({"TESTING": True}).test_client().post("/api/reports", headers=bearer("ana"))
    assert created.status_code == 201 and "report.html" in created.get_json()["files"]
    assert db.driver().execute_query("MATCH (r:Report {report_id: $id}) RETURN r.trigger AS trigger",
                                     id=created.get_json()["report_id"]).records[0]["trigger"] == "web"
