"""Neo4j beyond one server: every saved statement is routed as the server plans it (reads to readers of a
cluster, writes and GDS procedures to the writer), and Linkwatch works through a ``neo4j://`` routing URI."""
from __future__ import annotations

import re

import pytest
from neo4j import RoutingControl

from app import auth, create_app
from graph import cypher, cypherlex, db
from graph.config import CYPHER_DIR, PROJECT_ROOT, managed_paths, setting
from graph.detect import pipeline

from test_detect import CAMPAIGN, _world
from webtools import PASSWORD, login

STATEMENTS = sorted(str(p.relative_to(CYPHER_DIR))[:-len(".cypher")] for p in CYPHER_DIR.rglob("*.cypher")
                    # the schema script holds many statements (apply_schema writes); `_` files are included parts
                    if p.name != "schema.cypher" and not p.name.startswith("_"))


def _calls_a_procedure(name: str) -> bool:
    """A procedure call, or any GDS function (a Cypher projection keeps its graph where it ran)."""
    return any(n.procedure or (n.called and n.text.lower().startswith("gds."))
               for n in cypherlex.names(cypherlex.tokens(cypher.query(name)))[0])


def test_every_statement_is_routed_as_the_server_plans_it(neo4j):
    """The server's own query type for each statement (EXPLAIN; nothing runs): 'r' routes to a reader, 'w' and
    'rw' to the writer; procedure calls and GDS functions (GDS keeps its graphs where they ran) to the writer too."""
    planned = {}
    with neo4j.session(database=db.database(), notifications_min_severity="OFF") as session:
        for name in STATEMENTS:
            planned[name] = session.run("EXPLAIN " + cypher.query(name)).consume().query_type
    assert set(planned.values()) <= {"r", "w", "rw"}, planned
    wrong = {name: (kind, cypher.access(name)) for name, kind in planned.items()
             if (cypher.access(name) == cypher.READ) != (kind == "r" and not _calls_a_procedure(name))}
    assert not wrong, wrong
    reads = [name for name in STATEMENTS if db.routing(name) == RoutingControl.READ]
    assert "ui/triage_queue" in reads and "detect/cluster_facts" in reads
    assert db.routing("app/audit_record") == db.routing("console/drop_graphs") == RoutingControl.WRITE
    assert len(reads) > len(STATEMENTS) / 2


def test_cypher_runs_only_through_the_known_doors():
    """One way to run Cypher: graph.db.run routes by statement; the few modules that open sessions themselves
    are known (the console reads in READ transactions; batched writes and the loader's writer write) and open
    them through graph.db.session, so that a read on a cluster's reader sees every earlier write."""
    sessions = {}
    for path in sorted(PROJECT_ROOT.glob("*/**/*.py")):
        if path.parts[len(PROJECT_ROOT.parts)] not in ("app", "graph", "loaders"):
            continue
        text = path.read_text()
        if re.search(r"\.execute_query\(|\.session\(", text):
            sessions[str(path.relative_to(PROJECT_ROOT))] = text
    assert set(sessions) == {"graph/db.py", "graph/console.py", "graph/detect/linkage.py",
                             "loaders/neo4j_writer.py", "graph/runtime.py"}
    assert "db.session(default_access_mode=READ_ACCESS)" in sessions["graph/console.py"]
    assert "routing_=routing(query_name)" in sessions["graph/db.py"]
    # every session but the runtime's own (the system database) shares execute_query's bookmarks
    assert all("db.session(" in text and "driver().session(" not in text
               for name, text in sessions.items() if name not in ("graph/db.py", "graph/runtime.py"))
    assert "bookmark_manager=driver().execute_query_bookmark_manager" in sessions["graph/db.py"]


@pytest.fixture
def through_routing_uri(neo4j, monkeypatch):
    """The test server reached as an external Neo4j through a ``neo4j://`` routing URI (a single server answers
    routing requests as its own cluster of one); each statement db.run sends is recorded with its routing."""
    port = setting("LINKWATCH_NEO4J_PORT")
    monkeypatch.setenv("NEO4J_URI", f"neo4j://127.0.0.1:{port}")
    monkeypatch.setenv("NEO4J_USERNAME", "neo4j")
    monkeypatch.setenv("NEO4J_PASSWORD", managed_paths().password_file.read_text().strip())
    db.close()
    sent: list[tuple[str, RoutingControl]] = []
    real_run = db.run

    def recording_run(query_name, /, **params):
        sent.append((query_name, db.routing(query_name)))
        return real_run(query_name, **params)

    monkeypatch.setattr(db, "run", recording_run)
    assert db.driver().execute_query("RETURN 1 AS one", routing_=RoutingControl.READ).records[0]["one"] == 1
    yield sent
    db.close()


def test_detection_and_the_analyst_pages_work_through_a_routing_uri(empty_db, through_routing_uri):
    sent = through_routing_uri
    _world()
    result = pipeline.run("gds")
    campaign = next(cid for cid, score in result.campaigns if set(score.members) == set(CAMPAIGN))
    assert db.gds().graph.list() == []  # nothing left behind on the server that ran GDS

    auth.save_user("ana", "analyst", PASSWORD)
    client = create_app({"TESTING": True}).test_client()
    assert login(client, "ana").status_code == 302
    del sent[:]
    for path in ("/", f"/campaigns/{campaign}", "/accounts/op00", "/api/triage", f"/api/campaigns/{campaign}",
                 f"/api/campaigns/{campaign}/chokepoints", "/search?q=Nimbus"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    assert campaign in client.get("/api/triage").get_data(as_text=True)
    # reading pages sends reads to readers; the only writes are the audit trail of what was viewed, if any
    writes = {name for name, routing in sent if routing == RoutingControl.WRITE}
    assert sent and writes <= {"app/audit_record"}, writes
    assert all(cypher.access(name) == cypher.READ for name, routing in sent if routing == RoutingControl.READ)
