"""Events vs entities: repeated transfers aggregate onto one relationship (nothing lost, nothing doubled on
re-run), entity rows merge complementary values, real conflicts follow the documented precedence as counted
warnings; rejects go under LINKWATCH_HOME and the summary groups them by reason."""
from __future__ import annotations

import csv
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from graph import db
from loaders.pipeline import LoadOptions, load
from test_load import snapshot

P2P = Path(__file__).parent / "data" / "p2p"


def options(tmp_path: Path, **overrides) -> LoadOptions:
    return LoadOptions(rejects_path=tmp_path / "rejects.csv", progress=False, **overrides)


def expected_relations() -> dict[tuple[str, str, str], dict]:
    """The aggregate of every (payer, payee, kind) computed here from the fixture, row by row."""
    out: dict[tuple[str, str, str], dict] = defaultdict(lambda: {"count": 0, "times": [], "amount": None})
    with (P2P / "relations.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            agg = out[(row["account_id"], row["other_account_id"], row["kind"])]
            agg["count"] += 1
            agg["times"].append(row["ts"])
            if row["amount"]:
                agg["amount"] = round((agg["amount"] or 0) + float(row["amount"]), 2)
    return dict(out)


def test_repeated_transfers_aggregate_onto_one_relationship(empty_db, tmp_path):
    summary = load([P2P], options(tmp_path))
    assert not summary.log.any, summary.lines()
    expected = expected_relations()
    assert summary.rows_read["relations"] == summary.rows_loaded["relations"] == 33
    assert summary.keys["relations"] == len(expected) == 9
    records, _, _ = db.driver().execute_query(
        "MATCH (a:Account)-[r:RELATED]->(b:Account) RETURN a.account_id AS a, b.account_id AS b, r.kind AS kind, "
        "r.count AS count, r.first_seen AS first, r.last_seen AS last, r.ts AS ts, r.amount AS amount")
    found = {(r["a"], r["b"], r["kind"]): r for r in records}
    assert set(found) == set(expected)  # distinct pairs = relationships
    assert sum(r["count"] for r in records) == 33  # counts sum to rows
    for key, agg in expected.items():
        r = found[key]
        assert r["count"] == agg["count"], key
        assert r["first"].to_native().strftime("%Y-%m-%dT%H:%M:%SZ") == min(agg["times"])
        assert r["last"].to_native().strftime("%Y-%m-%dT%H:%M:%SZ") == max(agg["times"])
        assert r["ts"] == r["last"]  # the detection window reads ts
        assert (round(r["amount"], 2) if r["amount"] is not None else None) == agg["amount"], key
    # the same card observed in two sessions: one edge, both observations counted, the whole span kept
    card = db.driver().execute_query(
        "MATCH (:Account {account_id: 'u001'})-[r:HAS_IDENTIFIER]->(:PaymentMethod {value: 'card_000'}) "
        "RETURN r.count AS n, toString(r.first_seen) AS first, toString(r.last_seen) AS last").records
    assert [tuple(r.values()) for r in card] == [(2, "2017-02-01T00:00:00Z", "2017-03-15T00:00:00Z")]

    # re-running the same load gives the same graph: aggregates are recomputed, not added
    first = snapshot()
    again = load([P2P], options(tmp_path))
    assert again.stats.counters["relationships_created"] == 0 and snapshot() == first


def test_the_account_page_shows_the_aggregate(empty_db, tmp_path):
    """'paid 12 times, 2017-03-01 → …' on the linked/related section (and its JSON twin)."""
    from app import auth, create_app
    from webtools import PASSWORD, login

    load([P2P], options(tmp_path))
    auth.save_user("vera", "viewer", PASSWORD)
    client = create_app({"TESTING": True}).test_client()
    login(client, "vera")
    page = client.get("/accounts/u001")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    agg = expected_relations()[("u001", "u002", "paid")]
    assert f"paid {agg['count']} times, {min(agg['times'])[:10]} → {max(agg['times'])[:10]}" in text
    assert "paid by them 3 times" in text  # the other direction, named as such
    data = client.get("/api/accounts/u001").get_json()
    related = {row["account"]: row["relations"] for row in data["linked"]}
    assert {(r["kind"], r["direction"], r["count"]) for r in related["u002"]} == {("paid", "out", 12), ("paid", "in", 3)}


def test_entity_rows_merge_and_conflicts_are_counted_warnings(empty_db, tmp_path):
    (tmp_path / "old.csv").write_text("account_id,email,org,status\nm1,m1@x.example,,active\nm2,,Acme,active\n"
                                      "m3,,,active\n")
    (tmp_path / "new.csv").write_text("account_id,email,org,status\nm1,,Initech,\nm2,,Acme Corp,banned\n"
                                      "m3,,,suspended\n")
    mapping = tmp_path / "accounts.toml"
    mapping.write_text('table = "accounts"\n')
    summary = load([tmp_path / "old.csv", tmp_path / "new.csv"], options(tmp_path, mapping=mapping))
    assert not summary.log.any
    assert summary.log.warnings == [
        "accounts.org: 1 key with different values, the later file (then line) wins (--prefer): "
        "account_id='m2': 'Acme' (old.csv:3) vs 'Acme Corp' (new.csv:3), kept 'Acme Corp'",
        "accounts.status: 2 keys with different values, the later file (then line) wins (--prefer): "
        "account_id='m2': 'active' (old.csv:3) vs 'banned' (new.csv:3), kept 'banned'; "
        "account_id='m3': 'active' (old.csv:4) vs 'suspended' (new.csv:4), kept 'suspended'"]
    records, _, _ = db.driver().execute_query(
        "MATCH (a:Account) RETURN a.account_id AS id, a.email AS email, a.org AS org, a.status AS status ORDER BY id")
    assert [tuple(r.values()) for r in records] == [
        ("m1", "m1@x.example", "Initech", "active"),  # complementary: nothing conflicts
        ("m2", None, "Acme Corp", "banned"), ("m3", None, None, "suspended")]
    load([tmp_path / "old.csv", tmp_path / "new.csv"], options(tmp_path, mapping=mapping, prefer="first"))
    records, _, _ = db.driver().execute_query("MATCH (a:Account {account_id: 'm2'}) RETURN a.org AS org, a.status AS s")
    assert tuple(records[0].values()) == ("Acme", "active")
    # a later load without a value keeps the stored one (a missing value never conflicts)
    (tmp_path / "accounts.csv").write_text("account_id,email\nm1,\n")
    load([tmp_path / "accounts.csv"], options(tmp_path))
    assert db.driver().execute_query("MATCH (a:Account {account_id: 'm1'}) RETURN a.email AS e").records[0]["e"] == \
        "m1@x.example"


def test_rejects_go_under_linkwatch_home_and_the_summary_groups_reasons(empty_db, tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("LINKWATCH_HOME", str(home))
    work = tmp_path / "cwd"
    work.mkdir()
    rows = "".join(f"p{i},,paid,2017-01-{1 + i % 28:02d}T00:00:00Z\n" for i in range(300))
    (tmp_path / "relations.csv").write_text("account_id,other_account_id,kind,ts\n" + rows.replace("paid", "Paid", 40)
                                            + "x,y,paid,soon\n" * 25)
    # --strict: every row here is bad, so nothing is written (LINKWATCH_HOME here has no Neo4j of its own)
    out = subprocess.run([sys.executable, "-m", "app.cli", "load", str(tmp_path / "relations.csv"), "--quiet",
                          "--strict"],
                         capture_output=True, text=True, cwd=work)
    assert out.returncode == 4, out.stderr
    assert list(work.iterdir()) == []  # nothing in the current folder
    written = list((home / "rejects").iterdir())
    assert len(written) == 1 and written[0].name.startswith("rejects-") and written[0].suffix == ".csv"
    assert f"rejects: {written[0]}" in out.stdout
    lines = out.stdout.splitlines()
    by_reason = lines[lines.index("rejected, by reason:") + 1:lines.index(f"rejects: {written[0]}")]
    assert [line.split(None, 1) for line in by_reason] == [
        ["300", "relations.csv  other_account_id  missing required field other_account_id  (e.g. line 2)"],
        ["40", "relations.csv  kind  unknown kind '...' (a kind is a lowercase word: [a-z][a-z0-9_]*)  (e.g. line 2)"],
        ["25", "relations.csv  ts  bad timestamp '...' (ISO-8601 or epoch seconds expected)  (e.g. line 302)"]]
    # the rejects file still names every line, one per problem
    with written[0].open(newline="") as handle:
        assert sum(1 for _ in csv.DictReader(handle)) == 300 + 40 + 25
