"""Where the login page sends the browser: only same-origin paths, whatever `next` holds (docs/web.md)."""
from __future__ import annotations

import string
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from app import auth, create_app

from webtools import PASSWORD, csrf_token

ORIGIN = "http://127.0.0.1:8080"
# Pieces an attacker combines: separators browsers drop or rewrite, encoded forms, schemes, hosts.
PIECES = ["/", "//", "\\", "\t", "\n", "\r", "\x00", "\x0b", "\x7f", "\u2028", "\u200b", "\ufeff", "%09", "%0a",
          "%0D", "%2f", "%2F", "%5c", "%5C", "%25", "%", "%252f", "%2509", "evil.example", "@", ":", "http:",
          "https:", "javascript:", "data:", ".", "..", "?", "#", " ", "ü", "accounts", "x=1", "&"]


@pytest.fixture
def app(empty_db):
    auth.save_user("vera", "viewer", PASSWORD)
    return create_app({"TESTING": True})


def _login_to(app, target: str):
    client = app.test_client()
    return client.post("/login", data={"username": "vera", "password": PASSWORD, "next": target,
                                       "csrf_token": csrf_token(client)})


def _same_origin_path(location: str) -> bool:
    """What a browser would do with the Location: drop TAB/LF/CR, resolve against the page, compare origins."""
    if any(ord(ch) < 0x21 or ord(ch) > 0x7e for ch in location):
        return False  # a header value of ours is printable ASCII
    if not location.startswith("/") or location.startswith("//") or "\\" in location:
        return False
    stripped = location.replace("\t", "").replace("\n", "").replace("\r", "")
    resolved = urlsplit(urljoin(f"{ORIGIN}/login", stripped))
    decoded = unquote(unquote(location))
    return resolved.scheme == "http" and resolved.netloc == "127.0.0.1:8080" and not decoded.startswith("//") \
        and "\\" not in decoded


@pytest.mark.parametrize("target", [
    "/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "/%09/evil.example", "/%0a/evil.example",
    "/%2509/evil.example", "//evil.example/x", "/\\evil.example", "/%5cevil.example", "/%2F/evil.example",
    "\t//evil.example", " /evil", "https://evil.example/", "javascript:alert(1)", "/\u2028/evil.example",
    "/x\x00y", "", "evil.example",
])
def test_hostile_targets_fall_back_to_the_overview(app, target):
    response = _login_to(app, target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target, location", [
    ("/campaigns?min_score=50&page=2", "/campaigns?min_score=50&page=2"),
    ("/accounts/%C3%BC%2Fx", "/accounts/%C3%BC%2Fx"),
    ("/accounts/ü", "/accounts/%C3%BC"),
    ("/console?query=MATCH+(n)+RETURN+n", "/console?query=MATCH+(n)+RETURN+n"),
])
def test_same_origin_paths_are_kept(app, target, location):
    assert _login_to(app, target).headers["Location"] == location


def test_the_login_page_remembers_where_the_user_was_going(app):
    client = app.test_client()
    response = client.get("/accounts/%C3%BC%20x?page=2")
    assert response.status_code == 302
    next_value = urlsplit(response.headers["Location"]).query
    assert next_value == "next=/accounts/%25C3%25BC%2520x?page%3D2"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" value="/accounts/%C3%BC%20x?page=2"' in page


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=8).map("".join),
    st.text(max_size=30).map(lambda t: "/" + t),
    st.text(alphabet=string.printable + "\u2028\u0085\u00a0", max_size=20),
))
def test_every_generated_target_redirects_within_the_origin(app, target):
    response = _login_to(app, target)
    assert response.status_code == 302, response.get_data(as_text=True)[:200]
    location = response.headers["Location"]
    assert _same_origin_path(location), repr(location)
    # kept targets arrive as safe_next left them (Werkzeug drops an empty query or fragment mark)
    assert location == "/" or location == auth.safe_next(target).rstrip("?#")
