"""The managed Neo4j + GDS server, the connection layer and the schema."""
from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError

from graph import cypher, db, runtime
from graph.config import GDS_VERSION, connection, managed_paths
from graph.errors import Neo4jUnavailable, RuntimeSetupError


def test_server_answers_with_the_pinned_gds_version(neo4j):
    assert db.gds_version() == GDS_VERSION
    records, _, _ = neo4j.execute_query("CALL dbms.components() YIELD name, versions, edition RETURN *")
    component = records[0]
    assert component["name"] == "Neo4j Kernel"
    assert component["edition"] == "community"
    assert component["versions"][0].startswith("5.26.")


def _schema_names(driver):
    constraints = {r["name"] for r in driver.execute_query("SHOW CONSTRAINTS YIELD name").records}
    indexes = {r["name"] for r in driver.execute_query("SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP'").records}
    return constraints, indexes


def test_schema_is_idempotent(empty_db):
    expected = cypher.statements("schema")
    first = _schema_names(empty_db)
    assert db.apply_schema() == len(expected)
    second = _schema_names(empty_db)
    assert first == second
    constraints, indexes = second
    declared_constraints = {s.split()[2] for s in expected if s.startswith("CREATE CONSTRAINT")}
    declared_indexes = {s.split()[2] for s in expected if s.startswith("CREATE INDEX")}
    assert constraints == declared_constraints
    # every uniqueness constraint brings its own backing index
    assert indexes == declared_indexes | declared_constraints


def test_uniqueness_constraint_is_enforced(empty_db):
    empty_db.execute_query("CREATE (:Account {account_id: 'a1'})")
    with pytest.raises(Exception) as info:
        empty_db.execute_query("CREATE (:Account {account_id: 'a1'})")
    assert "already exists" in str(info.value)


@pytest.fixture
def probe_user(neo4j):
    """A throw-away user, so failed logins (rate-limited per user) never lock out `neo4j`."""
    password = "probe-password-1"
    with neo4j.session(database="system") as session:
        session.run("CREATE OR REPLACE USER lw_auth_probe SET PASSWORD $pw CHANGE NOT REQUIRED", pw=password).consume()
    yield "lw_auth_probe", password
    with db.driver().session(database="system") as session:
        session.run("DROP USER lw_auth_probe IF EXISTS").consume()


def test_wrong_password_is_refused(probe_user):
    user, password = probe_user
    uri = connection().uri
    with GraphDatabase.driver(uri, auth=(user, password)) as good:
        good.verify_connectivity()
    with GraphDatabase.driver(uri, auth=(user, password + "-wrong")) as bad:
        with pytest.raises(AuthError):
            bad.verify_connectivity()


def test_wrong_password_gives_an_actionable_error(probe_user, monkeypatch):
    user, _ = probe_user
    monkeypatch.setenv("NEO4J_URI", connection().uri)
    monkeypatch.setenv("NEO4J_USERNAME", user)
    monkeypatch.setenv("NEO4J_PASSWORD", "not-the-password")
    with pytest.raises(Neo4jUnavailable, match=f"refused the credentials for user '{user}'"):
        db.verify()


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket in LISTEN state on `port`, read from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.rsplit(":", 1)
            if state == "0A" and int(port_hex, 16) == port:
                found.add(address)
    return found


def _non_loopback_ipv4() -> str | None:
    out = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    return next((a for a in out if "." in a and not a.startswith("127.")), None)


def test_bolt_listens_on_loopback_only(neo4j):
    port = int(connection().uri.rsplit(":", 1)[1])
    addresses = _listening_addresses(port)
    # 127.0.0.1 as IPv4 (0100007F) or as an IPv4-mapped IPv6 address.
    assert addresses, f"nothing listens on port {port}"
    assert all(a in ("0100007F", "0000000000000000FFFF00000100007F") for a in addresses), addresses
    other = _non_loopback_ipv4()
    if other:
        with pytest.raises(OSError):
            socket.create_connection((other, port), timeout=2).close()


def test_config_has_auth_on_and_http_off(neo4j):
    conf = (managed_paths().conf_dir / "neo4j.conf").read_text().splitlines()
    assert "dbms.security.auth_enabled=true" in conf
    assert "server.http.enabled=false" in conf
    assert "server.https.enabled=false" in conf
    assert "dbms.security.procedures.unrestricted=gds.*" in conf
    assert managed_paths().password_file.stat().st_mode & 0o777 == 0o600


def test_wcc_finds_known_components(empty_db):
    empty_db.execute_query(
        """
        CREATE (a:Account {account_id:'a'})-[:LINK]->(b:Account {account_id:'b'})-[:LINK]->(c:Account {account_id:'c'}),
               (d:Account {account_id:'d'})-[:LINK]->(e:Account {account_id:'e'}),
               (:Account {account_id:'f'})
        """
    )
    gds = db.gds()
    graph, result = gds.graph.project.native("test-wcc", "Account", {"LINK": {"orientation": "UNDIRECTED"}})
    try:
        assert result.node_count == 6
        components = gds.wcc.stream(graph)
        ids = {gds.util.as_node(int(n))["account_id"]: int(c) for n, c in zip(components.nodeId, components.componentId)}
    finally:
        graph.drop()
    groups = {}
    for account, component in ids.items():
        groups.setdefault(component, set()).add(account)
    assert sorted(map(sorted, groups.values())) == [["a", "b", "c"], ["d", "e"], ["f"]]
    assert not any(g.name == "test-wcc" for g in gds.graph.list())


def test_start_is_idempotent_and_status_reports_it(neo4j):
    before = runtime.status()
    again = runtime.start(log=lambda _msg: None)
    assert again.running and again.pid == before.pid
    assert again.server_gds_version == GDS_VERSION
    assert again.data_dir == managed_paths().data_dir


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, env=env)


def test_cli_env_prints_connection_exports(neo4j):
    out = _cli("neo4j", "env")
    assert out.returncode == 0, out.stderr
    lines = dict(line.removeprefix("export ").split("=", 1) for line in out.stdout.splitlines())
    assert lines["NEO4J_URI"] == connection().uri
    assert lines["NEO4J_USERNAME"] == "neo4j"
    assert lines["NEO4J_PASSWORD"].strip("'") == connection().password


def test_port_taken_is_a_one_line_error(neo4j, tmp_path, monkeypatch):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        env = {**__import__("os").environ, "LINKWATCH_HOME": str(tmp_path), "LINKWATCH_NEO4J_PORT": str(port)}
        out = _cli("neo4j", "start", env=env)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1] == (
        f"linkwatch: error: port 127.0.0.1:{port} is taken by another process; "
        "stop it or set LINKWATCH_NEO4J_PORT to a free port"
    )
    assert "Traceback" not in out.stderr


def test_jvm_failure_names_the_log(neo4j, tmp_path):
    env = {**__import__("os").environ, "LINKWATCH_HOME": str(tmp_path), "LINKWATCH_NEO4J_PORT": "7799",
           "LINKWATCH_NEO4J_HEAP": "12q"}
    out = _cli("neo4j", "start", env=env)
    assert out.returncode == 2
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("linkwatch: error: the Neo4j JVM exited with code 1 during start; read ")
    log = Path(last.split("read ")[1].split(" and ")[0])
    assert "Invalid initial heap size" in log.read_text()


def test_missing_java_and_maven_are_reported(tmp_path, monkeypatch):
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("LINKWATCH_JAVA", "")
    monkeypatch.setattr(runtime, "JVM_ROOT", tmp_path / "no-jvms")
    with pytest.raises(RuntimeSetupError, match="no Java 17 or 21 found"):
        runtime.find_java()
    monkeypatch.setenv("LINKWATCH_RUNTIME_DIR", str(tmp_path / "runtime"))
    with pytest.raises(RuntimeSetupError, match="`mvn` .* is not on PATH"):
        runtime.ensure_runtime()


def test_unreachable_maven_central_is_reported(tmp_path, monkeypatch):
    settings = tmp_path / "settings.xml"
    settings.write_text(
        "<settings><localRepository>%s</localRepository><mirrors><mirror><id>nowhere</id>"
        "<mirrorOf>*</mirrorOf><url>http://127.0.0.1:9/maven2</url></mirror></mirrors></settings>"
        % (tmp_path / "repo")
    )
    monkeypatch.setenv("LINKWATCH_MAVEN_SETTINGS", str(settings))
    monkeypatch.setenv("LINKWATCH_RUNTIME_DIR", str(tmp_path / "runtime"))
    with pytest.raises(RuntimeSetupError, match="Maven Central is unreachable"):
        runtime.ensure_runtime(log=lambda _msg: None)
    assert not (tmp_path / "runtime").joinpath(runtime.COMPLETE_MARKER).exists()


def test_every_setting_is_documented():
    from graph.config import SETTINGS

    doc = (Path(__file__).parent.parent / "docs" / "configuration.md").read_text()
    missing = [name for name in SETTINGS if f"| `{name}` |" not in doc]
    assert missing == []


def test_a_generated_password_may_start_with_a_dash(neo4j, tmp_path, monkeypatch):
    # token_urlsafe gives a leading "-" about once in 64 passwords; neo4j-admin must take it as the value.
    monkeypatch.setenv("LINKWATCH_HOME", str(tmp_path))
    paths = managed_paths()
    paths.conf_dir.mkdir(parents=True)
    (paths.conf_dir / "neo4j.conf").write_text("")
    runtime._set_initial_password(paths, runtime.find_java(), "-starts-with-a-dash")
    assert (paths.data_dir / "dbms" / "auth.ini").exists()


def test_rows_are_exported_as_the_drivers_record_data_gives_them(neo4j):
    # every kind of value a statement can return, nested: db.run converts them faster, the same way
    records = db.driver().execute_query("""
        CREATE p = (a:ExportProbe {name: 'a', tags: ['x', 'y'], at: datetime('2026-01-02T03:04:05Z')})
                   -[r:PROBES {weight: 0.5}]->(b:ExportProbe {name: 'b', day: date('2026-01-02')})
        WITH a, r, b, p
        RETURN a, r, p, [a, b] AS nodes, {one: a, list: [1, 2.5, 'three', null, true], nested: [[1, 2], [3]],
               maps: [{k: [r]}, {k: 'v'}]} AS mixed, [] AS empty, point({x: 1, y: 2}) AS point,
               duration('P1DT2H') AS span, localtime('10:00') AS local, 'text' AS text""",
        database_=db.database()).records
    db.driver().execute_query("MATCH (n:ExportProbe) DETACH DELETE n", database_=db.database())
    [record] = records
    exported = {key: db.exported(value) for key, value in zip(record.keys(), record.values())}
    assert exported == record.data()
    assert exported["a"] == {"name": "a", "tags": ["x", "y"], "at": record["a"]["at"]}
    b = {"name": "b", "day": record["nodes"][1]["day"]}
    assert exported["r"] == (exported["a"], "PROBES", b) and exported["p"] == [exported["a"], "PROBES", b]
    assert exported["mixed"]["maps"] == [{"k": [exported["r"]]}, {"k": "v"}]
