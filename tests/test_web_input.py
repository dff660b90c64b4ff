"""Bad input answers 400 with a message, never 500; ids with any character are reachable and their links
round-trip — against a real waitress server and the real Neo4j."""
from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from hypothesis import strategies as st
import requests
from flask import url_for

from app import auth, create_app, ids
from graph import db

from webtools import PASSWORD, bearer, http_login, live_server

HOSTILE_IDS = ["a/b", "/lead", "trail/", "a//b", "100%", "50%2F", "what?x=1", "frag#ment", "sp ace", "ünï/cödé",
               "..", ".", "../../admin", "~tilde", "~" + "YQ", "a\\b", "<b>x</b>", "tab\there", "+1", "-", "😀"]


@pytest.fixture(scope="module")
def world(_server_ready):
    db.wipe()
    db.apply_schema()
    db.driver().execute_query(
        "UNWIND $ids AS id CREATE (a:Account {account_id: id, org: 'org of ' + id})"
        "-[:HAS_IDENTIFIER {kind: 'email'}]->(:Email {value: id + '@mail.example'})", {"ids": HOSTILE_IDS})
    db.driver().execute_query(
        "MATCH (a:Account) WITH collect(a) AS all CREATE (p:PaymentMethod {value: 'pm/shared %2F?#'}) "
        "WITH all, p UNWIND all AS a CREATE (a)-[:HAS_IDENTIFIER {kind: 'payment'}]->(p)")
    for name, role in (("vera", "viewer"), ("ana", "analyst")):
        auth.save_user(name, role, PASSWORD)
    app = create_app()
    with live_server(app) as base:
        yield app, base


@pytest.fixture(scope="module")
def analyst(world):
    return http_login(world[1], "ana")


def _csrf(http, base) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', http.get(f"{base}/investigate").text).group(1)


def _bad(response, *fragments: str) -> str:
    assert response.status_code == 400, (response.status_code, response.text[:300])
    text = response.json()["error"] if response.headers["Content-Type"].startswith("application/json") \
        else response.text
    for fragment in fragments:
        assert fragment in text, (fragment, text[:300])
    return text


# ---- investigate --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("top", ["abc", "1e400", "1.5", "0", "501", "99999999999999999999999", "-1"])
def test_investigate_form_refuses_a_bad_top(world, analyst, top):
    base = world[1]
    response = analyst.post(f"{base}/investigate", data={"seeds": "a/b", "top": top,
                                                        "csrf_token": _csrf(analyst, base)})
    _bad(response, "top must be a whole number from 1 to 500")


@pytest.mark.parametrize("body, message", [
    ('{"seeds": ["a/b"], "top": "abc"}', "top must be a whole number from 1 to 500"),
    ('{"seeds": ["a/b"], "top": 1e400}', "numbers must be finite"),
    ('{"seeds": ["a/b"], "top": true}', "top must be a whole number"),
    ('{"seeds": "a/b"}', "seeds must be a list of strings"),
    ('{"seeds": {"a": 1}}', "seeds must be a list of strings"),
    ('{"seeds": [1, 2]}', "seeds must be a list of strings"),
    ('{"seeds": []}', "paste at least one account id"),
    ('["a/b"]', "send a JSON object"),
    ('{"seeds": ["a/b"], "top": 18446744073709551617}', "integer out of range"),
])
def test_investigate_api_refuses_bad_bodies(world, body, message):
    response = requests.post(f"{world[1]}/api/investigate", data=body,
                             headers={**bearer("ana"), "Content-Type": "application/json"})
    _bad(response, message)


def test_investigate_api_ranks_with_good_input(world):
    response = requests.post(f"{world[1]}/api/investigate", json={"seeds": ["a/b"], "top": "3"}, headers=bearer("ana"))
    assert response.status_code == 200 and response.json()["top"] == 3


# ---- cases -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, message", [
    ('[{"note": "x"}]', "send a JSON object"),
    ('{"note": 123}', "note must be text"),
    ('{"status": ["triage"]}', "status must be text"),
    ('{"assignee": {"x": 1}}', "assignee must be text"),
    ('{"status": "nope"}', "unknown status"),
])
def test_cases_refuse_bad_bodies(world, body, message):
    response = requests.post(f"{world[1]}/cases/account/a%2Fb", data=body,
                             headers={**bearer("ana"), "Content-Type": "application/json"})
    _bad(response, message)
    bad_kind = requests.post(f"{world[1]}/cases/planet/a", json={"note": "x"}, headers=bearer("ana"))
    _bad(bad_kind, "kind must be one of campaign, account")


def test_a_case_on_an_account_with_a_slash_in_its_id(world):
    response = requests.post(f"{world[1]}/cases/account/{ids.encode('a/b')}", json={"note": "looked at it"},
                             headers=bearer("ana"))
    assert response.status_code == 200
    assert [n["text"] for n in response.json()["notes"]] == ["looked at it"]


# ---- the console's JSON (checked before the console sees it) ----------------------------------------------

@pytest.mark.parametrize("body, message", [
    ('{"query": "RETURN $x", "params": {"x": 18446744073709551616}}', "integer out of range"),
    ('{"query": "RETURN $x", "params": {"x": -9223372036854775809}}', "integer out of range"),
    ('{"query": "RETURN $x", "params": {"x": "\\ud800"}}', "lone surrogate"),
    ('{"query": "RETURN $x", "params": {"\\udfff": 1}}', "lone surrogate"),
    ('{"query": "RETURN $x", "params": {"x": NaN}}', "numbers must be finite"),
    ('{"query": "RETURN 1", "params": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested deeper than 32 levels"),
    ('{"query": "RETURN 1", "params": {"x": ' + "[" * 33 + "]" * 33 + "}}", "nested deeper than 32 levels"),
])
def test_console_bodies_with_unusable_values_are_refused(world, body, message):
    response = requests.post(f"{world[1]}/api/cypher", data=body.encode(),
                             headers={**bearer("ana"), "Content-Type": "application/json"})
    _bad(response, message)


def test_console_takes_the_largest_64_bit_integer(world):
    response = requests.post(f"{world[1]}/api/cypher", data='{"query": "RETURN $x AS x", "params": {"x": 9223372036854775807}}',
                             headers={**bearer("ana"), "Content-Type": "application/json"})
    assert response.status_code == 200 and response.json()["rows"] == [[9223372036854775807]]


@pytest.mark.parametrize("body, message", [
    ({"title": "t", "query": "RETURN 1", "params": "zz"}, "params must be a JSON object"),
    ({"title": "t", "query": "RETURN 1", "params": [1]}, "params must be a JSON object"),
    ({"title": "t", "query": "RETURN 1", "tags": "x"}, "tags must be a list of strings"),
    ({"title": "t", "query": "RETURN 1", "tags": [1]}, "tags must be a list of strings"),
])
def test_saved_queries_refuse_bad_params(world, body, message):
    response = requests.post(f"{world[1]}/api/queries", json=body, headers=bearer("ana"))
    _bad(response, message)
    mine = requests.get(f"{world[1]}/api/queries", headers=bearer("ana")).json()["queries"]
    assert all(not isinstance(q["params"], str) for q in mine)  # nothing half-stored


# ---- campaigns and paging ----------------------------------------------------------------------------------

@pytest.mark.parametrize("query, message", [
    ("min_score=inf", "min_score must be a number from 0 to 100"),
    ("min_score=1e999", "min_score must be a number from 0 to 100"),
    ("min_score=nan", "min_score must be a number from 0 to 100"),
    ("min_score=-1", "min_score must be a number from 0 to 100"),
    ("min_score=abc", "min_score must be a number from 0 to 100"),
    ("page=99999999999999999999999", "page must be a whole number from 1 to 100,000"),
    ("page=0", "page must be a whole number from 1"),
    ("page=x", "page must be a whole number from 1"),
    ("sort=evil", "sort must be one of score"),
    ("order=sideways", "order must be one of desc, asc"),
    ("flagged=yes", "flagged must be one of 1, 0"),
    ("capability=" + "x" * 2001, "capability holds at most 2,000 characters"),
])
def test_campaign_filters_are_checked(world, analyst, query, message):
    base = world[1]
    _bad(requests.get(f"{base}/api/campaigns?{query}", headers=bearer("vera")), message)
    page = analyst.get(f"{base}/campaigns?{query}")
    _bad(page, message)
    assert "<h1>400</h1>" in page.text


def test_paging_elsewhere_is_checked(world):
    base = world[1]
    email = ids.encode("a/b@mail.example")
    _bad(requests.get(f"{base}/api/identifiers/email/{email}?page=1e3", headers=bearer("vera")),
         "page must be a whole number")
    _bad(requests.get(f"{base}/api/search?q=" + "q" * 2001, headers=bearer("vera")), "q holds at most 2,000")


# ---- ids with any character ------------------------------------------------------------------------------

@pytest.mark.parametrize("account_id", HOSTILE_IDS)
def test_every_account_id_is_reachable_and_its_links_round_trip(world, analyst, account_id):
    app, base = world
    with app.test_request_context():
        page_url = url_for("accounts.account", account_id=account_id)
        json_url = url_for("accounts.account_json", account_id=account_id)
    assert page_url == "/accounts/" + ids.encode(account_id)
    data = requests.get(base + json_url, headers=bearer("vera"))
    assert data.status_code == 200, (json_url, data.status_code)
    assert data.json()["account"]["account_id"] == account_id
    page = analyst.get(base + page_url)
    assert page.status_code == 200
    assert f"org of {account_id}".replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in page.text
    # the account page links to its e-mail identifier, whose page links back to this account
    email = re.search(r'href="(/identifiers/email/[^"]+)"', page.text).group(1)
    back = analyst.get(base + email.replace("&amp;", "&"))
    assert back.status_code == 200 and f'href="{page_url}"' in back.text


def test_a_percent_encoded_id_also_reaches_the_api(world):
    response = requests.get(f"{world[1]}/api/accounts/a%2Fb", headers=bearer("vera"))
    assert response.status_code == 200 and response.json()["account"]["account_id"] == "a/b"
    shared = requests.get(f"{world[1]}/api/identifiers/payment/{ids.encode('pm/shared %2F?#')}",
                          headers=bearer("vera"))
    assert shared.status_code == 200
    assert {a["account"] for a in shared.json()["accounts"]} == set(HOSTILE_IDS)


def test_the_id_encoding_round_trips():
    for value in HOSTILE_IDS + ["acct-1", "pm_1", "x@y.example", "2001:db8::1", ""]:
        encoded = ids.encode(value)
        assert ids.decode(encoded) == value
        assert "/" not in encoded and "%" not in encoded and not encoded.startswith(".")
    assert ids.encode("acct-1") == "acct-1" and ids.decode("~not base64!") == "~not base64!"
    assert unquote(ids.encode("a b")) == ids.encode("a b")


# ---- every route, generated input ------------------------------------------------------------------------

QUERY_NAMES = ["page", "min_score", "flagged", "active", "capability", "status", "lineage", "sort", "order", "q",
               "download", "next", "query", "params", "tag"]
NOT_FUZZED = {"auth.logout", "auth.logout_everywhere", "auth.login", "static", "graphview.vis_asset",
              "reports.generate", "reports.generate_json"}  # session enders; files; a whole report per call
nasty_text = st.one_of(st.text(max_size=40), st.sampled_from(
    ["inf", "-inf", "nan", "1e999", "99999999999999999999999", "-1", "0", "1", "--5", "+-1", "\u0663", "\u00b2", "%00", "..", "/", "\\", "~", "~~~",
     "\ud7ff", "{", "[]", "{}", "null", "true", "a" * 3000]))


def test_every_route_survives_generated_parameters(world):
    """Every rule of the app (pages and JSON, GET and POST) with generated ids, query strings and form bodies."""
    from hypothesis import HealthCheck, given, settings, strategies as hst

    app = world[0]
    client = app.test_client()
    assert client.post("/login", data={"username": "ana", "password": PASSWORD,
                                       "csrf_token": _token(client)}).status_code == 302
    token = _token(client)
    routes = [(rule, method) for rule in app.url_map.iter_rules() if rule.endpoint not in NOT_FUZZED
              for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    failures: list[str] = []
    statuses: dict[int, int] = {}

    @settings(max_examples=300, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(route=hst.sampled_from(routes), values=hst.fixed_dictionaries({}, optional={
        name: nasty_text for name in QUERY_NAMES}), ident=nasty_text.filter(bool), form=hst.dictionaries(
        hst.sampled_from(["seeds", "top", "status", "assignee", "note", "title", "query"]), nasty_text, max_size=4))
    def exercise(route, values, ident, form):
        rule, method = route
        url = rule.build({name: (ident if name not in ("kind",) else ident[:10]) for name in rule.arguments},
                         append_unknown=False)[1]
        response = client.open(url, method=method, query_string=values, data={**form, "csrf_token": token})
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.status_code >= 500:
            failures.append(f"{method} {url} {values} {form} -> {response.status_code}")

    exercise()
    assert failures == [], "\n".join(failures[:20])
    assert statuses.get(200, 0) > 20 and statuses.get(400, 0) > 20 and statuses.get(404, 0) > 0, statuses
    assert client.get("/api/whoami").get_json()["name"] == "ana"  # still logged in: nothing ended the session


def _token(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)


def test_a_json_body_over_the_size_limit_is_refused_before_parsing(world):
    body = b'{"query": "RETURN 1", "params": {"x": "' + b"a" * (1024 * 1024) + b'"}}'
    _bad(requests.post(f"{world[1]}/api/cypher", data=body, headers={**bearer("ana"), "Content-Type": "application/json"}),
         "a JSON body holds at most 1,048,576 bytes")


def test_a_saved_query_stored_with_bad_params_still_exports(world):
    db.run("app/saved_query_save", id="u-legacy", owner="ana", title="legacy", query="RETURN 1",
           description="", params='"zz"', tags=[])
    response = requests.get(f"{world[1]}/api/queries/u-legacy.cypher", headers=bearer("ana"))
    assert response.status_code == 200 and response.text.startswith("// title: legacy")
