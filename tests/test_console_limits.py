"""The console's own limits and last lines of defence, against the real server and web server:
the plan-side function check, the GDS-state check, size / nesting / UNION caps before planning,
the response-size cap and the concurrency gate (429) that keeps the web server answering."""
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest

from app import auth, create_app
from graph import console, db
from graph.detect import communities

from webtools import PASSWORD, live_server


def _graphs() -> list[str]:
    return [r["graphName"] for r in db.driver().execute_query(
        "CALL gds.graph.list() YIELD graphName RETURN graphName").records]


@pytest.fixture
def accounts(empty_db):
    empty_db.execute_query("UNWIND range(1, 40) AS i CREATE (:Account {account_id: 'a' + i})")
    return empty_db


def test_plan_check_refuses_functions_the_screen_let_through(accounts):
    # The plan is read independently of the screen: hand it a query whose text the screen never saw.
    with accounts.session() as session:
        summary = session.run("EXPLAIN RETURN 1 AS x, gds.graph.exists('nope') AS y").consume()
    with pytest.raises(console.QueryRefused, match="function gds.graph.exists"):
        console._check_plan(summary)
    with accounts.session() as session:
        harmless = session.run("EXPLAIN RETURN date.truncate('day', date()) AS d, toUpper('x') AS u").consume()
    console._check_plan(harmless)


def test_gds_state_created_by_a_query_is_dropped_and_refused(accounts, monkeypatch):
    # Switch the screen and the plan check off to reach the last line of defence on its own.
    monkeypatch.setattr(console, "screen", lambda query, limits=None: None)
    monkeypatch.setattr(console, "_check_plan", lambda summary: None)
    query = "MATCH (a:Account) WITH a LIMIT 2 RETURN gds.graph.project('smuggled', a, null).graphName AS g"
    with pytest.raises(console.QueryRefused, match="created GDS state \\(smuggled\\)"):
        console.run_readonly(query)
    assert _graphs() == []


def test_detection_projections_are_not_dropped(accounts):
    registered = communities.projection_name("groups")
    for name in (registered, "linkwatch-groups-000000000000"):
        db.driver().execute_query("MATCH (a:Account) WITH a LIMIT 2 RETURN gds.graph.project($name, a, null)",
                                  name=name)
    try:
        assert console._drop_new_graphs(set()) == ["linkwatch-groups-000000000000"]
        assert _graphs() == [registered]
    finally:
        db.driver().execute_query("CALL gds.graph.drop($name, false)", name=registered)
        db.run("detect/unregister_projection", name=registered)


@pytest.mark.parametrize("query, setting", [
    ("RETURN " + "(" * 5000 + "1" + ")" * 5000, "LINKWATCH_CONSOLE_MAX_NESTING"),
    ("RETURN " + "[" * 20000 + "]" * 20000, "LINKWATCH_CONSOLE_MAX_QUERY_CHARS"),
    ("RETURN " + "[" * 2000 + "]" * 2000, "LINKWATCH_CONSOLE_MAX_NESTING"),
    (" UNION ".join(["RETURN 1 AS x"] * 2000), "LINKWATCH_CONSOLE_MAX_QUERY_CHARS"),
    (" UNION ".join(["RETURN 1 AS x"] * 30), "LINKWATCH_CONSOLE_MAX_UNIONS"),
    ("RETURN '" + "x" * 30000 + "'", "LINKWATCH_CONSOLE_MAX_QUERY_CHARS"),
])
def test_costly_queries_are_refused_before_the_server_plans_them(query, setting):
    # No server round trip: screen() alone refuses, naming the setting that allows more.
    with pytest.raises(console.QueryRefused, match=setting):
        console.screen(query)


def test_queries_at_the_caps_still_run(accounts):
    limits = console.Limits()
    nested = "RETURN " + "(" * (limits.max_nesting - 1) + "1" + ")" * (limits.max_nesting - 1) + " AS x"
    assert console.run_readonly(nested).rows == [[1]]
    unions = " UNION ".join(f"RETURN {i} AS x" for i in range(limits.max_unions + 1))
    assert len(console.run_readonly(unions).rows) == limits.max_unions + 1


def test_planning_is_under_the_time_limit(accounts):
    # A query within the caps that takes long to plan: the time limit covers planning too (it used to
    # run unbounded before the transaction began, then answer 500).
    # a relationship type of its own per run, so no plan is cached; three hops per branch, so a warm planner
    # still takes about a second (0.2 s was too close to a short pattern's warm planning time)
    kind = f"R_{uuid.uuid4().hex[:8]}"
    unions = " UNION ".join(f"MATCH (a:Account)-[:{kind}]->(b)-[:{kind}]->(c)-[:{kind}]->(d) "
                            f"WHERE a.n = {i} AND d.n > {i} RETURN d AS x" for i in range(40))
    with pytest.raises(console.QueryTimeout):
        console.run_readonly(unions, limits=console.Limits(timeout_s=0.2, max_unions=40))


def test_response_size_is_capped(accounts):
    big = console.run_readonly("RETURN reduce(s = '', i IN range(1, 500) | s + '0123456789') AS big",
                               limits=console.Limits(max_response_bytes=1000))
    assert big.truncated is True and 0 < len(big.rows[0][0]) <= 1000 and big.rows[0][0].endswith("…")
    many = console.run_readonly("UNWIND range(1, 10000) AS i RETURN 'row number ' + i AS r",
                                limits=console.Limits(max_response_bytes=5000))
    assert many.truncated is True and 100 < len(many.rows) < 1000
    assert len(json.dumps(many.rows)) <= 5000 + 100
    whole = console.run_readonly("UNWIND range(1, 100) AS i RETURN i", limits=console.Limits(max_response_bytes=5000))
    assert whole.truncated is False and len(whole.rows) == 100


@pytest.fixture
def live_app(accounts):
    for name, role in (("ana", "analyst"), ("abe", "analyst"), ("ada", "admin")):
        auth.save_user(name, role, PASSWORD)
    app = create_app({"CONSOLE_LIMITS": console.Limits(timeout_s=8.0)})
    with live_server(app, threads=8) as url:  # as `linkwatch serve` runs by default
        yield url, {name: auth.create_token(name) for name in ("ana", "abe", "ada")}


def _post(url: str, token: str, query: str) -> tuple[int, float]:
    request = urllib.request.Request(url + "/api/cypher", data=json.dumps({"query": query}).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, time.monotonic()
    except urllib.error.HTTPError as exc:
        return exc.code, time.monotonic()


def test_saturated_console_answers_429_and_the_server_keeps_answering(live_app):
    url, tokens = live_app
    slow = "UNWIND range(1, 2000000000) AS x WITH x WHERE x = -1 RETURN count(*)"
    outcomes: list[tuple[int, float]] = []
    users = ["ana", "abe", "ada"] * 4
    threads = [threading.Thread(target=lambda u=u: outcomes.append(_post(url, tokens[u], slow))) for u in users[:10]]
    for t in threads:
        t.start()
    time.sleep(1.5)
    with urllib.request.urlopen(url + "/healthz", timeout=30) as health:
        assert health.status == 200
    health_answered = time.monotonic()
    for t in threads:
        t.join()
    statuses = sorted(status for status, _ in outcomes)
    # at most 4 at once (2 per user): the other 6 were turned away at once instead of taking a worker
    assert statuses.count(408) == 4 and statuses.count(429) == 6
    # /healthz did not wait for the running queries to end
    assert all(health_answered < at for status, at in outcomes if status == 408)


def test_serve_keeps_threads_free_of_the_console(capsys):
    from app.cli import main

    assert main(["serve", "--threads", "4"]) == 2
    assert "LINKWATCH_CONSOLE_MAX_CONCURRENT" in capsys.readouterr().err
