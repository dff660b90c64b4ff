"""Sessions are revocable server-side: a copied cookie dies with logout, password or role change, disabling,
and "log out everywhere" — checked against a real waitress server and the real Neo4j."""
from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from app import auth, create_app
from graph import db

from webtools import PASSWORD, bearer, http_login, live_server


@pytest.fixture
def base(empty_db):
    for name, role in (("vera", "viewer"), ("ana", "analyst"), ("adam", "admin")):
        auth.save_user(name, role, PASSWORD)
    with live_server(create_app()) as url:
        yield url


def _copy(http: requests.Session) -> requests.Session:
    """Another browser holding a saved copy of the same cookies."""
    thief = requests.Session()
    thief.cookies.update(http.cookies)
    return thief


def _revoked(base: str, copy: requests.Session) -> bool:
    api = copy.get(f"{base}/api/whoami", allow_redirects=False)
    page = copy.get(f"{base}/console", allow_redirects=False)
    return api.status_code == 401 and api.json() == {"error": "authentication required"} \
        and page.status_code == 302 and page.headers["Location"].startswith("/login?next=")


def _csrf(http, base):
    import re

    return re.search(r'name="csrf_token" value="([^"]+)"', http.get(f"{base}/").text).group(1)


def test_a_saved_cookie_dies_with_logout(base):
    http = http_login(base, "ana")
    copy = _copy(http)
    assert copy.get(f"{base}/api/whoami").json()["name"] == "ana"
    assert copy.get(f"{base}/console", allow_redirects=False).status_code == 200
    assert "remember_token" not in http.cookies  # no remember-me cookie that could outlive the session
    logout = http.post(f"{base}/logout", data={"csrf_token": _csrf(http, base)}, allow_redirects=False)
    assert logout.status_code == 302
    assert _revoked(base, copy)
    assert _revoked(base, http)
    # logging in again works and gives a fresh, valid session
    assert http_login(base, "ana").get(f"{base}/api/whoami").json()["name"] == "ana"


@pytest.mark.parametrize("change", [
    lambda: auth.save_user("ana", "analyst", "another long password"),   # password change
    lambda: auth.save_user("ana", "viewer", PASSWORD),                   # role change
    lambda: auth.set_disabled("ana", True),
    lambda: auth.end_sessions("ana"),
], ids=["password", "role", "disable", "end-sessions"])
def test_a_session_dies_when_the_account_changes(base, change):
    http = http_login(base, "ana")
    other = http_login(base, "vera")
    change()
    assert _revoked(base, http)
    assert other.get(f"{base}/api/whoami").json()["name"] == "vera"  # other users keep their sessions


def test_reenabling_does_not_revive_old_sessions(base):
    http = http_login(base, "ana")
    auth.set_disabled("ana", True)
    auth.set_disabled("ana", False)
    assert _revoked(base, http)


def test_admin_logs_a_user_out_everywhere(base):
    first, second = http_login(base, "vera"), http_login(base, "vera")
    headers = bearer("adam")
    answer = requests.post(f"{base}/api/users/vera/logout", headers=headers)
    assert answer.status_code == 200
    version = db.run("app/user_get", name="vera")[0]["user"]["session_version"]
    assert answer.json() == {"name": "vera", "session_version": version}
    assert _revoked(base, first) and _revoked(base, second)
    assert requests.post(f"{base}/api/users/nobody/logout", headers=headers).json() == {
        "error": "no user named 'nobody'"}
    refused = requests.post(f"{base}/api/users/adam/logout", headers=bearer("ana"))
    assert refused.status_code == 403
    # the audit trail names who did it
    events = db.run("app/audit_recent", action="user.logout_everywhere", user="adam", limit=5)
    assert [e["subject"] for e in events] == ["user:vera"]


def test_users_cli_logs_a_user_out_everywhere(base):
    http = http_login(base, "vera")
    done = subprocess.run([sys.executable, "-m", "app.cli", "users", "logout", "vera"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("user vera logged out everywhere (session version ")
    assert _revoked(base, http)
    missing = subprocess.run([sys.executable, "-m", "app.cli", "users", "logout", "nobody"], capture_output=True,
                             text=True)
    assert missing.returncode != 0 and missing.stderr.strip() == "linkwatch: error: no user named 'nobody'"


def test_a_cookie_from_before_session_versions_is_refused(base):
    """A session that names the user without a version (as issued before versions existed) is not accepted."""
    from webtools import login

    client = create_app({"TESTING": True}).test_client()
    assert login(client, "vera").status_code == 302
    assert client.get("/api/whoami").get_json()["name"] == "vera"
    with client.session_transaction() as session:
        assert session["_user_id"].startswith("vera:")
        session["_user_id"] = "vera"
    assert client.get("/api/whoami").status_code == 401
