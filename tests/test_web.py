"""The web app's security: login, roles, CSRF, API tokens, cookies — against the real Neo4j."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from app import auth, create_app
from graph import db

from webtools import PASSWORD, csrf_token as _csrf, login as _login


@pytest.fixture
def app(empty_db):
    application = create_app({"TESTING": True})
    auth.save_user("vera", "viewer", PASSWORD)
    auth.save_user("ana", "analyst", PASSWORD)
    auth.save_user("adam", "admin", PASSWORD)
    return application


@pytest.fixture
def client(app):
    return app.test_client()



def test_every_page_but_login_and_health_needs_login(client):
    assert client.get("/").status_code == 302
    assert client.get("/").headers["Location"].startswith("/login")
    assert client.get("/api/overview").status_code == 401
    assert client.get("/api/overview").get_json() == {"error": "authentication required"}
    assert client.get("/login").status_code == 200
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.get_json()["status"] == "ok"


def test_login_lands_on_the_triage_queue_and_the_overview_is_an_admin_page(client, empty_db):
    empty_db.execute_query("CREATE (:Account {account_id: 'x1'}), (:Account {account_id: 'x2'})")
    response = _login(client, "vera")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "<h1>Triage queue</h1>" in home and "No completed detection run yet" in home
    assert 'href="/admin/overview"' in home
    page = client.get("/admin/overview").get_data(as_text=True)
    assert re.search(r"<td>Account</td><td class=\"num\">2</td>", page)
    data = client.get("/api/overview").get_json()
    assert {"label": "Account", "nodes": 2} in data["labels"]


def test_wrong_password_and_unknown_user_are_refused(client):
    assert _login(client, "vera", "wrong password!").status_code == 401
    assert _login(client, "nobody").status_code == 401
    assert client.get("/api/whoami").status_code == 401


def test_passwords_are_stored_hashed(app):
    stored = auth.find_user("vera")["password_hash"]
    assert PASSWORD not in stored
    assert stored.startswith("scrypt:")


def test_login_form_requires_csrf_token(client):
    response = client.post("/login", data={"username": "vera", "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_state_changing_request_with_session_needs_csrf(client):
    _login(client, "vera")
    assert client.post("/logout").status_code == 400
    assert client.get("/api/whoami").get_json()["name"] == "vera"
    assert client.post("/logout", data={"csrf_token": _csrf(client, "/")}).status_code == 302
    assert client.get("/api/whoami").status_code == 401


def test_login_is_rate_limited(client):
    for _ in range(5):
        assert _login(client, "ana", "not the password").status_code == 401
    # Even the right password is refused while the lock lasts.
    assert _login(client, "ana").status_code == 429


def test_disabled_user_cannot_log_in(client):
    auth.set_disabled("vera", True)
    assert _login(client, "vera").status_code == 401


def test_session_cookie_is_httponly_and_samesite(client):
    response = _login(client, "vera")
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_open_redirect_after_login_is_refused(client):
    response = client.post("/login", data={"username": "vera", "password": PASSWORD, "next": "//evil.example/x",
                                           "csrf_token": _csrf(client)})
    assert response.headers["Location"] == "/"


def test_bearer_token_works_without_csrf_and_can_be_revoked(client):
    token = auth.create_token("ana", label="notebook")
    headers = {"Authorization": f"Bearer {token}"}
    who = client.get("/api/whoami", headers=headers).get_json()
    assert who == {"name": "ana", "role": "analyst", "via_token": True}
    stored = db.driver().execute_query("MATCH (t:ApiToken) RETURN t.secret_sha256 AS h").records[0]["h"]
    assert token.split("_", 2)[2] not in stored
    auth.revoke_token(token.split("_")[1])
    response = client.get("/api/whoami", headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"error": "invalid or revoked API token"}


def test_bogus_bearer_header_does_not_fall_back_to_the_session(client):
    _login(client, "vera")
    response = client.post("/logout", headers={"Authorization": "Bearer lw_nothing_here"})
    assert response.status_code == 401
    assert client.get("/api/whoami").get_json()["name"] == "vera"


def test_token_of_disabled_user_is_refused(client):
    token = auth.create_token("vera")
    auth.set_disabled("vera", True)
    assert client.get("/api/whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_roles_are_ordered():
    viewer, analyst, admin = (auth.User("v", "viewer"), auth.User("a", "analyst"), auth.User("d", "admin"))
    assert [viewer.has_role("analyst"), analyst.has_role("analyst"), admin.has_role("analyst")] == [False, True, True]
    assert [viewer.has_role("viewer"), analyst.has_role("admin")] == [True, False]


def test_users_cli_adds_lists_and_rejects_weak_passwords(empty_db):
    run = lambda *args, stdin="": subprocess.run([sys.executable, "-m", "app.cli", "users", *args],
                                                 input=stdin, capture_output=True, text=True)
    added = run("add", "carla", "--role", "analyst", "--password-stdin", stdin="a-long-enough-password\n")
    assert added.returncode == 0, added.stderr
    listed = run("list")
    assert re.search(r"^carla\s+analyst\s+active\s+tokens=0", listed.stdout, re.MULTILINE)
    weak = run("add", "dan", "--password-stdin", stdin="short\n")
    assert weak.returncode == 2
    assert weak.stderr.strip() == "linkwatch: error: password must have at least 12 characters"
    assert auth.find_user("dan") is None


def test_openapi_describes_every_json_route(app, client):
    import re as _re

    _login(client, "vera")
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/") or rule.rule.startswith("/cases/")):
            continue
        path = _re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {path} is not in the OpenAPI description"
