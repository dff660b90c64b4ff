"""Every route × every role, walked from ``app.url_map`` so that a route added later is covered (or fails loudly).

Expectations come from two declared tables: which roles each state-changing endpoint allows (a new
POST/PUT/PATCH/DELETE endpoint fails until it is listed) and which read endpoints need more than a viewer.
Each check collects every failing route before asserting, so one run names all of them.
"""
from __future__ import annotations

import json

import pytest

from app import auth, create_app
from graph import db

from webtools import PASSWORD, bearer, csrf_token, login

ROLES = ("viewer", "analyst", "admin")
USERS = {"viewer": "vera", "analyst": "ana", "admin": "adam"}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}

# Which roles each state-changing endpoint allows ("anonymous" = no login needed).
WRITE_ROLES = {
    "auth.login": {"anonymous", "viewer", "analyst", "admin"},
    "auth.logout": {"anonymous", "viewer", "analyst", "admin"},
    "auth.logout_everywhere": {"admin"},
    "cases.update_case": {"analyst", "admin"},
    "investigate.seeded": {"analyst", "admin"},
    "investigate.investigate_json": {"analyst", "admin"},
    "console.run_cypher": {"analyst", "admin"},
    "console.save_query": {"analyst", "admin"},
    "console.import_query": {"analyst", "admin"},
    "console.delete_query": {"analyst", "admin"},
    "reports.generate": {"analyst", "admin"},
    "reports.generate_json": {"analyst", "admin"},
}
# Read endpoints that need more than a viewer; every other read is open to viewers.
ANALYST_READS = {"console.page", "console.history", "console.list_queries", "console.export_query", "investigate.seeded"}
# Served without login.
PUBLIC = {"auth.login", "main.healthz", "static", "graphview.vis_asset"}
# Non-API GET routes without a "Show the Cypher" panel, and why.
NO_CYPHER_PANEL = {
    "console.page": "the page is a Cypher editor",
    "investigate.seeded": "the empty form runs nothing (after a POST it shows its statements)",
    "campaigns.members_csv": "a CSV file",
    "cases.enforcement_csv": "a CSV file",
    "act.chokepoints_csv": "a CSV file",
    "reports.report_file": "a report file",
}

# A value for every URL argument, naming things the fixture creates; a new argument name fails the walk.
SAMPLE_ARGS = {"account_id": "acct-1", "campaign_id": "cmp-1", "kind": "payment", "value": "pm_1",
               "subject_id": "cmp-1", "query_id": "identifiers-of-account", "report_id": "rep-1",
               "filename": "linkwatch.css", "name": "vis-network.min.js",
               "user_name": "vera"}
ENDPOINT_ARGS = {"cases.update_case": {"kind": "campaign"}, "reports.report_file": {"name": "report.html"}}
# Query strings for pages that run nothing without one.
PAGE_QUERIES = {"accounts.search": "?q=nothing-like-this"}
# Request bodies where an empty one would not exercise the endpoint (a failed login would count toward the throttle).
SAMPLE_BODIES = {"auth.login": {"data": {"username": "vera", "password": PASSWORD}}}
# The accounting detection stores with a campaign (pages and reports read it).
ACCOUNTING = json.dumps({"accounts": 2, "requests": 15, "input_tokens": 3000, "output_tokens": 9000,
                         "requests_per_account": 7.5, "active_days": 44, "first_activity": "2026-04-22T00:00:00Z",
                         "last_activity": "2026-06-05T00:00:00Z", "capabilities": {"chat": 1.0}})


@pytest.fixture
def app(empty_db):
    empty_db.execute_query(
        "CREATE (a:Account {account_id: 'acct-1', requests: 10}), (b:Account {account_id: 'acct-2', requests: 5}),"
        " (pm:PaymentMethod {value: 'pm_1'}),"
        " (a)-[:HAS_IDENTIFIER {kind: 'payment'}]->(pm), (b)-[:HAS_IDENTIFIER {kind: 'payment'}]->(pm),"
        " (:Report {report_id: 'rep-1', status: 'failed', created_at: datetime('2026-06-06T00:00:00Z')})")
    campaign = {"campaign_id": "cmp-1", "score": 80.0, "flagged": True, "size": 2,
                "evidence": ["2 accounts share a card"], "contributions": "{}", "accounting": ACCOUNTING,
                "requests": 15, "first_activity": "2026-04-22T00:00:00Z", "last_activity": "2026-06-05T00:00:00Z",
                "event": "new", "related": []}
    db.run("detect/save_run", run_id="run-1", started_at="2026-06-06T00:00:00Z", engine="gds", accounts=2,
           linkage_edges=1, flagged_campaigns=1, parameters="{}", evidence_since=None, campaigns=[campaign])
    db.run("detect/add_members", rows=[{"campaign_id": "cmp-1", "account_id": a} for a in ("acct-1", "acct-2")])
    for role, name in USERS.items():
        auth.save_user(name, role, PASSWORD)
    return create_app({"TESTING": True})


def _routes(app):
    """(endpoint, method, url) for every rule and method of the app."""
    found = []
    for rule in app.url_map.iter_rules():
        args = {**SAMPLE_ARGS, **ENDPOINT_ARGS.get(rule.endpoint, {})}
        missing = set(rule.arguments) - set(args)
        assert not missing, f"{rule.rule}: add a sample value for {sorted(missing)} to SAMPLE_ARGS"
        url = rule.build({name: args[name] for name in rule.arguments})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, url))
    return found


def _is_api(url: str) -> bool:
    return url.startswith("/api/")


def _sent_to_login(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def _unauthenticated(response) -> bool:
    return response.status_code == 401 and (response.get_json(silent=True) or {}).get("error") == \
        "authentication required"


def _auth_refused(response) -> bool:
    """Refused for want of a login: a redirect to the login page, or 401 from the JSON API."""
    return _sent_to_login(response) or _unauthenticated(response)


def _csrf_refused(response) -> bool:
    return response.status_code == 400 and "CSRF check failed" in response.get_data(as_text=True)


def _send(client, method, url, endpoint, headers=None, token=None):
    body = dict(SAMPLE_BODIES.get(endpoint, {}))
    if token:
        if "data" in body:
            body["data"] = {**body["data"], "csrf_token": token}
        else:
            headers = {**(headers or {}), "X-CSRFToken": token}
    return client.open(url, method=method, headers=headers, **body)


def _session(app, role: str | None):
    """A client logged in as ``role`` (None: anonymous) and the CSRF token of its session."""
    client = app.test_client()
    if role is not None:
        assert login(client, USERS[role]).status_code == 302
    return client, csrf_token(client, "/login")


def test_every_state_changing_endpoint_is_declared(app):
    undeclared = sorted({f"{method} {url} ({endpoint})" for endpoint, method, url in _routes(app)
                         if method in STATE_CHANGING and endpoint not in WRITE_ROLES})
    assert undeclared == [], "declare which roles may call these in WRITE_ROLES"
    stale = set(WRITE_ROLES) - {endpoint for endpoint, _, _ in _routes(app)}
    assert stale == set(), "WRITE_ROLES names endpoints the app no longer has"


def test_anonymous_is_sent_to_login_except_on_public_routes(app):
    failures = []
    for endpoint, method, url in _routes(app):
        client, token = _session(app, None)
        response = _send(client, method, url, endpoint, token=token)
        public = endpoint in PUBLIC or method in STATE_CHANGING and "anonymous" in WRITE_ROLES[endpoint]
        if public:
            if _auth_refused(response) or response.status_code >= 400:
                failures.append(f"{method} {url}: public, got {response.status_code}")
        elif not (_unauthenticated(response) if _is_api(url) else _sent_to_login(response)):
            failures.append(f"{method} {url}: expected {'401' if _is_api(url) else 'redirect to /login'}, "
                            f"got {response.status_code} {response.headers.get('Location', '')}")
    assert failures == []


def test_each_role_gets_exactly_the_routes_it_is_allowed(app):
    failures = []
    for role in ROLES:
        session = _session(app, role)
        for endpoint, method, url in _routes(app):
            if endpoint in PUBLIC and method == "GET":
                continue  # covered anonymously
            # login and logout change who the session belongs to: they get a session of their own
            client, token = _session(app, role) if endpoint in ("auth.login", "auth.logout") else session
            response = _send(client, method, url, endpoint, token=token)
            if endpoint in ("auth.logout", "auth.logout_everywhere"):
                session = _session(app, role)  # logging out (anyone) ends every session of that user
            if method in STATE_CHANGING:
                allowed = role in WRITE_ROLES[endpoint]
            else:
                allowed = role != "viewer" or endpoint not in ANALYST_READS
            if allowed:  # the sample request may be incomplete (400) or name nothing (404), but is not refused
                ok = response.status_code < 500 and response.status_code not in (401, 403) \
                    and not _auth_refused(response) and not _csrf_refused(response)
            else:
                ok = response.status_code == 403
            if not ok:
                failures.append(f"{role} {method} {url}: {'allowed' if allowed else 'expected 403'}, "
                                f"got {response.status_code}")
    assert failures == []


def test_session_writes_without_csrf_token_are_refused(app):
    failures = []
    for endpoint, method, url in _routes(app):
        if method not in STATE_CHANGING:
            continue
        for role in (None, "analyst"):
            client, _ = _session(app, role)
            response = _send(client, method, url, endpoint)
            if not _csrf_refused(response):
                failures.append(f"{role or 'anonymous'} {method} {url} without CSRF token: got {response.status_code}")
    assert failures == []


def test_bearer_token_writes_need_no_csrf_token_and_keep_role_checks(app):
    failures = []
    for endpoint, method, url in _routes(app):
        if method not in STATE_CHANGING or "anonymous" in WRITE_ROLES[endpoint]:
            continue  # login/logout are about sessions, not tokens
        for role in ROLES:
            response = _send(app.test_client(), method, url, endpoint, headers=bearer(USERS[role]))
            allowed = role in WRITE_ROLES[endpoint]
            if _csrf_refused(response) or _auth_refused(response):
                failures.append(f"bearer {role} {method} {url}: refused ({response.status_code})")
            elif allowed and (response.status_code == 403 or response.status_code >= 500):
                failures.append(f"bearer {role} {method} {url}: allowed, got {response.status_code}")
            elif not allowed and response.status_code != 403:
                failures.append(f"bearer {role} {method} {url}: expected 403, got {response.status_code}")
    assert failures == []


def test_every_page_that_queries_shows_its_cypher(app):
    """HTML pages (not the JSON API, files or assets) carry "Show the Cypher" with the statements they ran."""
    client, _ = _session(app, "analyst")
    failures = []
    for endpoint, method, url in _routes(app):
        if method != "GET" or _is_api(url) or endpoint in PUBLIC or endpoint in NO_CYPHER_PANEL:
            continue
        response = client.get(url + PAGE_QUERIES.get(endpoint, ""))
        page = response.get_data(as_text=True)
        if response.status_code != 200 or "Show the Cypher" not in page or "<code>cypher/" not in page:
            failures.append(f"{url} ({endpoint}) has no 'Show the Cypher' panel")
    assert failures == []


def test_overview_shows_the_cypher_and_its_json_twin_names_it(app):
    client, _ = _session(app, "viewer")
    page = client.get("/admin/overview").get_data(as_text=True)
    assert "Show the Cypher" in page and "cypher/app/graph_overview.cypher" in page
    assert "db.stats.retrieve" in page  # the statement's text, not only its name
    data = client.get("/api/overview").get_json()
    assert data["cypher"] == [{"name": "app/graph_overview", "params": {}}]
    assert {"label": "Account", "nodes": 2} in data["labels"]


def test_seeded_investigation_shows_the_statements_it_ran(app, empty_db):
    empty_db.execute_query("MATCH (a:Account {account_id: 'acct-1'}), (b:Account {account_id: 'acct-2'}) "
                           "CREATE (a)-[:LINKED {kind: 'payment', weight: 1.0, strong: 1.0}]->(b)")
    client, token = _session(app, "analyst")
    page = client.post("/investigate", data={"seeds": "acct-1", "top": "5", "csrf_token": token}).get_data(as_text=True)
    assert 'href="/accounts/acct-2"' in page  # the lead
    assert "Show the Cypher" in page
    assert "cypher/detect/account_nodes.cypher" in page and "cypher/detect/evidence_paths.cypher" in page
    data = client.post("/api/investigate", json={"seeds": ["acct-1"], "top": 5}, headers={"X-CSRFToken": token})
    assert [q["name"] for q in data.get_json()["cypher"]] == ["detect/account_nodes", "detect/evidence_paths"]
    assert data.get_json()["cypher"][1]["params"] == {"targets": ["acct-2"], "seeds": ["acct-1"]}
