"""`linkwatch load --bulk`: a first load into an empty managed database through neo4j-admin database import
gives exactly the graph the transactional load gives (every node's labels and properties with their types, every
relationship's type, endpoints and properties), and later transactional loads on top of it change nothing.

These tests wipe, stop and restart this worker's test server (the bulk path does). They are not marked
``changes_demo_world``: like every other module that wipes the database they run after the demo world's tests
(tests/conftest.py), so no demo test has to load the world again after them; the first one loads a 1,500-account
world of the demo's kind (every table, every property type) three times, hence its time limit."""
from __future__ import annotations

import contextlib
import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st
from neo4j.time import Date, DateTime

from app.cli import main
from graph import db, runtime
from loaders.spec import EXIT_REJECTED

pytestmark = pytest.mark.timeout(2400)

# the property (or properties) that identify a node of each label (docs/graph-model.md)
NODE_KEYS = {"Account": ("account_id",), "PaymentMethod": ("value",), "IP": ("value",), "Device": ("value",),
             "Email": ("value",), "Phone": ("value",), "ApiKey": ("value",), "Identifier": ("kind", "value"),
             "IPNetwork": ("cidr",), "ASN": ("asn",), "ProxyNetwork": ("name",), "PromptTemplate": ("template_id",),
             "Model": ("name",)}


def _value(value):
    """A property value as comparable data that keeps what equality of Python values would hide: a datetime's
    zone, and int vs float."""
    if isinstance(value, (DateTime, Date)):
        return (type(value).__name__, value.iso_format(), str(getattr(value, "tzinfo", None)))
    if isinstance(value, list):
        return tuple(_value(v) for v in value)
    return (type(value).__name__, value)


def dump() -> tuple[list, list]:
    """Every node (labels, key, properties with their Cypher types) and every relationship (type, the keys of
    both ends, properties with types), sorted: two graphs are the same when their dumps are equal."""
    nodes, keys = [], {}
    records = db.driver().execute_query(
        "MATCH (n) RETURN elementId(n) AS id, labels(n) AS labels, properties(n) AS props, "
        "[k IN keys(n) | [k, valueType(n[k])]] AS types", database_=db.database()).records
    for record in records:
        labels = tuple(sorted(record["labels"]))
        assert len(labels) == 1 and labels[0] in NODE_KEYS, labels
        key = (labels[0], tuple(record["props"][k] for k in NODE_KEYS[labels[0]]))
        keys[record["id"]] = key
        props = tuple(sorted((k, _value(v)) for k, v in record["props"].items()))
        nodes.append((key, props, tuple(sorted(map(tuple, record["types"])))))
    relationships = []
    records = db.driver().execute_query(
        "MATCH (a)-[r]->(b) RETURN elementId(a) AS a, elementId(b) AS b, type(r) AS type, properties(r) AS props, "
        "[k IN keys(r) | [k, valueType(r[k])]] AS types", database_=db.database()).records
    for record in records:
        props = tuple(sorted((k, _value(v)) for k, v in record["props"].items()))
        relationships.append((record["type"], keys[record["a"]], keys[record["b"]], props,
                              tuple(sorted(map(tuple, record["types"])))))
    return sorted(nodes, key=repr), sorted(relationships, key=repr)


def _load(*args: str, rejected_ok: bool = False) -> str:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["load", *args, "--quiet"])
    assert code == 0 or (rejected_ok and code == EXIT_REJECTED), printed.getvalue()
    return printed.getvalue()


def _constraints() -> set[str]:
    return {r["name"] for r in db.driver().execute_query("SHOW CONSTRAINTS YIELD name RETURN name",
                                                         database_=db.database()).records}


@pytest.fixture(scope="module")
def small_world(tmp_path_factory, _server_ready) -> Path:
    """A world of the demo's kind with 1,500 accounts: the same tables, kinds and types, a fifth of the rows."""
    bundle = tmp_path_factory.mktemp("small") / "bundle"
    assert main(["simulate", "--scale", "demo", "--accounts", "1500", "--seed", "2", "--out", str(bundle),
                 "--quiet"]) == 0
    return bundle


def test_bulk_first_load_is_the_transactional_graph(small_world, tmp_path, _server_ready, monkeypatch):
    rejects = str(tmp_path / "rejects.csv")
    db.wipe()
    memory = runtime.running_memory()
    assert memory["heap"] and memory["pagecache"]
    # the restart brings the server back as it was, not as the loading process's settings would start one
    monkeypatch.setenv("LINKWATCH_NEO4J_HEAP", "700m")
    monkeypatch.setenv("LINKWATCH_NEO4J_PAGECACHE", "70m")
    # loaded by another process, as a user would while the web app runs: this process's driver holds the
    # bookmarks of its writes to the database the import replaces (the wipe above)
    loading = subprocess.run([sys.executable, "-m", "app.cli", "load", str(small_world), "--bulk", "always",
                              "--quiet", "--rejects", rejects], capture_output=True, text=True, timeout=900)
    assert loading.returncode == 0, loading.stdout + loading.stderr
    assert "written by neo4j-admin database import" in loading.stdout, loading.stdout
    assert runtime.running_memory() == memory != {"heap": "700m", "pagecache": "70m"}
    # the next statement reaches the new database (the driver is opened afresh), not a bookmark timeout
    assert db.run("load/graph_counts")[0]["nodes"] > 4_000
    assert {"account_id", "ip_value", "identifier_key", "asn_number"} <= _constraints()
    bulk = dump()
    labels = {key[0] for key, _, _ in bulk[0]}
    assert labels >= {"Account", "PaymentMethod", "IP", "Device", "Email", "IPNetwork", "ASN", "ProxyNetwork",
                      "PromptTemplate", "Model"}, labels
    assert len(bulk[0]) > 4_000 and len(bulk[1]) > 30_000, (len(bulk[0]), len(bulk[1]))

    # a later load is transactional (the database is not empty) and changes nothing: no node, no relationship,
    # no property value differs
    printed = _load(str(small_world), "--rejects", rejects)
    assert "neo4j-admin" not in printed
    assert "neo4j: 0 nodes created, 0 relationships created, 0 deleted" in printed, printed
    assert dump() == bulk

    db.wipe()
    db.apply_schema()
    printed = _load(str(small_world), "--bulk", "never", "--rejects", rejects)
    assert "neo4j-admin" not in printed
    transactional = dump()
    assert len(transactional[0]) == len(bulk[0]) and len(transactional[1]) == len(bulk[1])
    for kind, ours, theirs in (("node", bulk[0], transactional[0]), ("relationship", bulk[1], transactional[1])):
        ours_set, theirs_set = set(ours), set(theirs)
        missing = [x for x in theirs if x not in ours_set][:3]
        extra = [x for x in ours if x not in theirs_set][:3]
        assert not missing and not extra, (kind, missing, extra)
    assert bulk == transactional


def test_bulk_refuses_a_database_that_is_not_empty(small_world, tmp_path, _server_ready, capsys):
    db.wipe()
    db.driver().execute_query("CREATE (:Account {account_id: 'already-here'})", database_=db.database())
    code = main(["load", str(small_world / "accounts.csv"), "--bulk", "always", "--quiet",
                 "--rejects", str(tmp_path / "r.csv")])
    assert code != 0
    error = capsys.readouterr().err
    assert "--bulk always needs an empty database, and this one holds 1 nodes" in error, error
    assert db.run("load/graph_counts") == [{"nodes": 1, "relationships": 0}]


# ---------------------------------------------------------------- hostile strings


# text an attacker controls: the CSV's own syntax, line breaks, a leading '-', the array delimiters the writer
# may choose, quotes and backslashes, characters outside the Basic Multilingual Plane
HOSTILE = st.text(alphabet=st.sampled_from(list(',"\'\n\r-;|\\ =:()[]{}\x1f\x1e\x1d\x1c\t#') + ["é", "中", "😀", "\u202e",
                                                                                   "\ue000", "a", "b", "Z", "0"]),
                  min_size=1, max_size=12).map(str.strip).filter(bool)


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        writer.writerows(rows)


def _hostile_bundle(folder: Path, ids: list[str], orgs: list[str], emails: list[str], models: list[str]) -> None:
    folder.mkdir(parents=True)
    _write_csv(folder / "accounts.csv", ["account_id", "org", "email"],
               [[i, orgs[n % len(orgs)], emails[n % len(emails)]] for n, i in enumerate(ids)])
    _write_csv(folder / "links.csv", ["account_id", "kind", "value"],
               [[i, "email", emails[n % len(emails)]] for n, i in enumerate(ids)]
               + [[i, "payment", orgs[(n + 1) % len(orgs)]] for n, i in enumerate(ids)])
    _write_csv(folder / "requests.csv", ["ts", "account_id", "model", "ip"],
               [[f"2026-05-0{1 + n % 7}T10:00:0{n % 10}Z", i, models[n % len(models)], f"10.0.0.{n % 250 + 1}"]
                for n, i in enumerate(ids * 2)])


# every example is a server restart and two loads (about a minute): the explicit one and one drawn per run
@settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck))
@given(ids=st.lists(HOSTILE, min_size=3, max_size=25, unique_by=str.lower),
       orgs=st.lists(HOSTILE, min_size=1, max_size=6), emails=st.lists(HOSTILE, min_size=1, max_size=6),
       models=st.lists(HOSTILE, min_size=1, max_size=4, unique=True))
@example(ids=["-1", 'a,"b"', "line\nbreak", "é中😀", "x\x1fy", "semi;colon", "back\\slash", "=SUM(A1)"],
         orgs=['Acme, "Inc"\r\nLtd', "-leading"], emails=["a@b;c", "q\"@x"],
         models=["gpt;4", "m\x1fx", "m\x1ex|y", "\"quoted\""])
def test_hostile_strings_round_trip_through_the_bulk_import(tmp_path_factory, _server_ready, ids, orgs, emails, models):
    bundle = tmp_path_factory.mktemp("hostile") / "bundle"
    _hostile_bundle(bundle, ids, orgs, emails, models)
    rejects = str(bundle.parent / "rejects.csv")
    db.wipe()
    printed = _load(str(bundle), "--bulk", "always", "--rejects", rejects, rejected_ok=True)
    assert "written by neo4j-admin database import" in printed, printed
    bulk = dump()
    # every hostile value the loader accepted is stored exactly as given
    stored = {r["id"]: r for r in db.driver().execute_query(
        "MATCH (a:Account) RETURN a.account_id AS id, a.org AS org, a.models AS models",
        database_=db.database()).records}
    assert stored and set(stored) <= set(ids)
    for n, account in enumerate(ids):
        if account in stored:
            assert stored[account]["org"] == orgs[n % len(orgs)]
            assert set(stored[account]["models"] or []) <= set(models)
    assert {m for r in stored.values() for m in r["models"] or []} == set(models)

    db.wipe()
    db.apply_schema()
    _load(str(bundle), "--bulk", "never", "--rejects", rejects, rejected_ok=True)
    assert dump() == bulk


def test_a_failed_import_leaves_an_empty_database_that_a_rerun_fills(tmp_path, _server_ready, monkeypatch, capsys):
    from loaders import bulk_import

    bundle = tmp_path / "bundle"
    _hostile_bundle(bundle, ["acc-1", "acc-2", "acc-3"], ["Org, One"], ["a@example.org"], ["m-1"])
    rejects = str(tmp_path / "rejects.csv")
    command = bulk_import.import_command

    def with_a_missing_file(*args, **kwargs):  # a real importer failing on a real, missing input file
        cmd = command(*args, **kwargs)
        return cmd[:-2] + [f"--nodes=Account={tmp_path / 'gone' / 'missing.csv'}"] + cmd[-2:]

    db.wipe()
    monkeypatch.setattr(bulk_import, "import_command", with_a_missing_file)
    assert main(["load", str(bundle), "--bulk", "always", "--quiet", "--rejects", rejects]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0, error
    assert "neo4j-admin database import failed (exit code" in error and "missing.csv" in error, error
    assert "the database is empty again and Neo4j is running: run the same `linkwatch load` again" in error
    assert db.run("load/graph_counts") == [{"nodes": 0, "relationships": 0}]
    assert "account_id" in _constraints()

    monkeypatch.setattr(bulk_import, "import_command", command)
    printed = _load(str(bundle), "--bulk", "always", "--rejects", rejects)
    assert "written by neo4j-admin database import" in printed
    assert db.run("load/graph_counts")[0]["nodes"] > 3


def test_auto_loads_a_small_first_load_transactionally(tmp_path, _server_ready, monkeypatch):
    bundle = tmp_path / "bundle"
    _hostile_bundle(bundle, ["acc-1", "acc-2", "acc-3"], ["Org"], ["a@example.org"], ["m-1"])
    db.wipe()
    monkeypatch.setenv("LINKWATCH_LOAD_BULK_MIN_ROWS", "1000")
    printed = _load(str(bundle), "--rejects", str(tmp_path / "rejects.csv"))
    assert "neo4j-admin" not in printed
    assert "relationships created" in printed and db.run("load/graph_counts")[0]["nodes"] > 3


def test_a_server_named_by_neo4j_uri_is_never_stopped(tmp_path, _server_ready, monkeypatch, capsys):
    from graph.config import connection

    managed = connection()
    bundle = tmp_path / "bundle"
    _hostile_bundle(bundle, ["acc-1", "acc-2", "acc-3"], ["Org"], ["a@example.org"], ["m-1"])
    db.wipe()
    # the same server, but named the way a user names their own: Linkwatch may not stop it
    monkeypatch.setenv("NEO4J_URI", managed.uri)
    monkeypatch.setenv("NEO4J_PASSWORD", managed.password)
    monkeypatch.setenv("LINKWATCH_LOAD_BULK_MIN_ROWS", "1")
    assert main(["load", str(bundle), "--bulk", "always", "--quiet", "--rejects", str(tmp_path / "r.csv")]) == 2
    assert "--bulk always needs the managed Neo4j" in capsys.readouterr().err
    assert db.run("load/graph_counts")[0]["nodes"] == 0
    printed = _load(str(bundle), "--rejects", str(tmp_path / "r.csv"))  # auto: transactional
    assert "neo4j-admin" not in printed and db.run("load/graph_counts")[0]["nodes"] > 3
