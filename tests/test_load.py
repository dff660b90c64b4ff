"""`linkwatch load` of the hand-written bundle in tests/data/bundle, in every bundle format."""
from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from neo4j.exceptions import ServiceUnavailable

from graph import db
from graph.errors import Neo4jUnavailable
from loaders import neo4j_writer
from loaders.pipeline import LoadOptions, load

BUNDLE = Path(__file__).parent / "data" / "bundle"

EXPECTED_NODES = {
    "Account": 4, "PaymentMethod": 1, "Device": 1, "Email": 1, "Phone": 1, "ApiKey": 1, "Identifier": 1,
    "IP": 5, "IPNetwork": 4, "ASN": 4, "ProxyNetwork": 2, "PromptTemplate": 4, "Model": 2,
}
EXPECTED_RELATIONSHIPS = {
    "HAS_IDENTIFIER": 8, "RELATED": 1, "SENT": 5, "USED_IP": 6, "USED_NETWORK": 3, "USED_ASN": 5,
    "IN_ASN": 5, "EXIT_OF": 3, "USED_MODEL": 5,
}


@pytest.fixture(autouse=True)
def _keep_every_template(monkeypatch):
    """The hand-written bundle is tiny: keep single-account templates so each one can be checked."""
    monkeypatch.setenv("LINKWATCH_LOAD_MIN_TEMPLATE_ACCOUNTS", "1")


def _csv_text_table(path: Path):
    """A CSV read with every column as text, so conversion keeps values exactly as written."""
    names = path.read_text().splitlines()[0].split(",")
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types={n: "string" for n in names}))


def bundle_in(fmt: str, folder: Path) -> Path:
    """The test bundle converted to ``fmt`` (same rows, same order)."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in sorted(BUNDLE.glob("*.csv")):
        name = source.stem
        if fmt == "csv":
            shutil.copy(source, folder / source.name)
        elif fmt == "csv.gz":
            (folder / f"{name}.csv.gz").write_bytes(gzip.compress(source.read_bytes()))
        elif fmt == "jsonl":
            rows = _csv_text_table(source).to_pylist()
            (folder / f"{name}.jsonl").write_text("".join(json.dumps({k: v for k, v in r.items() if v is not None}) + "\n"
                                                          for r in rows))
        elif fmt == "parquet":
            pq.write_table(_csv_text_table(source), folder / f"{name}.parquet")
    return folder


def options(tmp_path: Path, **overrides) -> LoadOptions:
    return LoadOptions(rejects_path=tmp_path / "rejects.csv", progress=False, **overrides)


def counts_by_label() -> dict[str, int]:
    records, _, _ = db.driver().execute_query("MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n")
    return {r["label"]: r["n"] for r in records}


def counts_by_type() -> dict[str, int]:
    records, _, _ = db.driver().execute_query("MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n")
    return {r["type"]: r["n"] for r in records}


def snapshot() -> tuple[list[str], list[str]]:
    """Every node and relationship with all properties, as sorted text: equal snapshots = equal graphs."""
    nodes, _, _ = db.driver().execute_query("MATCH (n) RETURN labels(n) AS labels, properties(n) AS props")
    rels, _, _ = db.driver().execute_query(
        "MATCH (a)-[r]->(b) RETURN properties(a) AS a, type(r) AS type, properties(r) AS props, properties(b) AS b")
    return (sorted(repr((sorted(r["labels"]), sorted(r["props"].items()))) for r in nodes),
            sorted(repr((sorted(r["a"].items()), r["type"], sorted(r["props"].items()), sorted(r["b"].items())))
                   for r in rels))


def iso(value) -> str:
    """A Neo4j DateTime as Python's ISO text (second precision unless there is a fraction)."""
    return value.to_native().isoformat()


def one(query: str, **params):
    records, _, _ = db.driver().execute_query(query, params)
    assert len(records) == 1, records
    return records[0]


@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "jsonl", "parquet"])
def test_bundle_loads_with_the_documented_graph(empty_db, tmp_path, fmt):
    summary = load([bundle_in(fmt, tmp_path / "bundle")], options(tmp_path))
    assert not summary.log.any
    assert summary.rows_read == {"accounts": 4, "links": 8, "requests": 7, "ip_intel": 4, "relations": 1, "labels": 2}
    assert summary.rows_loaded == summary.rows_read
    assert counts_by_label() == EXPECTED_NODES
    assert counts_by_type() == EXPECTED_RELATIONSHIPS
    assert summary.stats.counters["nodes_created"] == sum(EXPECTED_NODES.values())
    assert summary.stats.counters["relationships_created"] == sum(EXPECTED_RELATIONSHIPS.values())

    a1 = one("MATCH (a:Account {account_id: 'a1'}) RETURN a")["a"]
    assert (a1["requests"], a1["input_tokens"], a1["output_tokens"], a1["active_days"]) == (2, 210, 820, 1)
    assert a1["hour_profile"] == [0] * 13 + [2] + [0] * 10
    assert (a1["activity_days"], a1["activity_counts"]) == (["2026-04-22"], [2])
    a3 = one("MATCH (a:Account {account_id: 'a3'}) RETURN a")["a"]  # an ISO time and an epoch second, two days
    assert (a3["activity_days"], a3["activity_counts"]) == (["2026-04-23", "2026-04-24"], [1, 1])
    used = one("MATCH (:Account {account_id: 'a3'})-[u:USED_MODEL]->(m:Model) RETURN u, m")
    assert (used["m"]["name"], used["u"]["requests"], used["u"]["days"], used["u"]["counts"]) == (
        "m-small", 2, ["2026-04-23", "2026-04-24"], [1, 1])
    assert a1["hour_entropy"] == 0.0
    assert (a1["models"], a1["model_counts"], a1["capabilities"]) == (["m-large"], [2], ["reasoning"])
    assert a1["distinct_ips"] == 2
    assert iso(a1["first_request"]) == "2026-04-22T13:00:00+00:00"
    assert (a1["label"], a1["label_source"], a1["country"]) == ("fraud", "analyst", "US")
    a2 = one("MATCH (a:Account {account_id: 'a2'}) RETURN a")["a"]
    assert (a2["email"], a2["country"]) == ("two@example.com", "US")  # normalised case
    assert a2["hour_profile"][9] == 1 and a2["hour_profile"][14] == 1
    assert a2["hour_entropy"] == 1.0
    assert a2["models"] == ["m-large", "m-small"]

    # the shared card links a1 and a2
    shared = one("MATCH (a:Account)-[r:HAS_IDENTIFIER]->(p:PaymentMethod {value: 'pm_7f3a01'}) "
                 "RETURN collect(a.account_id) AS accounts, sum(r.count) AS total")
    assert sorted(shared["accounts"]) == ["a1", "a2"] and shared["total"] == 5
    assert one("MATCH (:Account {account_id: 'a4'})-[r:HAS_IDENTIFIER]->(i:Identifier) RETURN i, r.kind AS kind")["i"][
        "value"] == "SPRING26"
    related = one("MATCH (:Account {account_id: 'a1'})-[r:RELATED]->(b:Account) RETURN r, b.account_id AS b")
    assert related["b"] == "a2" and related["r"]["kind"] == "referred"

    # IPv6 spellings merged; IPs carry their network's intel
    v6 = one("MATCH (a:Account {account_id: 'a3'})-[r:USED_IP]->(ip:IP) RETURN r, ip")
    assert v6["ip"]["value"] == "2001:db8::1" and v6["r"]["count"] == 2
    assert (v6["ip"]["asn"], v6["ip"]["proxy_type"], v6["ip"]["proxy_network"]) == (64503, "hosting", "CloudHop")
    assert iso(v6["r"]["last_seen"]) == "2026-04-24T03:06:40+00:00"  # epoch seconds 1777000000
    exits = one("MATCH (ip:IP)-[:EXIT_OF]->(:ProxyNetwork {name: 'ShadowNet'}) RETURN collect(ip.value) AS ips")
    assert sorted(exits["ips"]) == ["203.0.113.7", "203.0.113.8"]
    assert one("MATCH (:IP {value: '10.1.2.3'})-[:IN_ASN]->(a:ASN) RETURN a.asn AS asn, a.name AS name").values() == [
        64500, "Example Transit"]
    network = one("MATCH (:Account {account_id: 'a1'})-[r:USED_NETWORK]->(:ProxyNetwork {name: 'ShadowNet'}) RETURN r")["r"]
    assert (network["count"], network["distinct_ips"]) == (2, 2)

    # the three slot-filled arithmetic prompts are one template; a fingerprint is used as is
    template = one("MATCH (t:PromptTemplate) WHERE t.sample STARTS WITH 'solve' RETURN t")["t"]
    assert template["sample"] == "solve step by step: what is <n> + <n>? show your reasoning."
    assert (template["requests"], template["accounts"]) == (3, 2)
    sent = one("MATCH (:Account {account_id: 'a1'})-[r:SENT]->(:PromptTemplate {template_id: $id}) RETURN r",
               id=template["template_id"])["r"]
    assert sent["n"] == 2 and iso(sent["first_seen"]) == "2026-04-22T13:00:00+00:00"
    assert one("MATCH (:Account {account_id: 'a3'})-[r:SENT]->(:PromptTemplate {template_id: 'fp_custom'}) "
               "RETURN r.n AS n")["n"] == 2


def test_second_load_changes_nothing(empty_db, tmp_path):
    load([BUNDLE], options(tmp_path))
    first = snapshot()
    again = load([BUNDLE], options(tmp_path))
    assert again.stats.counters["nodes_created"] == 0
    assert again.stats.counters["relationships_created"] == 0
    assert again.stats.counters["relationships_deleted"] == 0
    assert snapshot() == first


def test_load_resumes_after_a_crash_mid_write(empty_db, tmp_path, monkeypatch):
    """A load cut off after a few batches, then re-run, yields exactly the graph of one clean load."""
    load([BUNDLE], options(tmp_path))
    clean = snapshot()
    db.wipe()
    db.apply_schema()

    real_run_batch = neo4j_writer._run_batch
    calls = {"n": 0}

    def dies_after_five_batches(tx, query, rows):
        calls["n"] += 1
        if calls["n"] > 5:
            raise ServiceUnavailable("simulated: server killed")
        return real_run_batch(tx, query, rows)

    monkeypatch.setattr(neo4j_writer, "_run_batch", dies_after_five_batches)
    with pytest.raises(Neo4jUnavailable, match="re-run the same `linkwatch load`"):
        load([BUNDLE], options(tmp_path, batch_size=2))
    partial = snapshot()
    assert 0 < len(partial[0]) < len(clean[0])
    monkeypatch.setattr(neo4j_writer, "_run_batch", real_run_batch)

    load([BUNDLE], options(tmp_path))  # the re-run's batches need not match the ones cut off
    assert snapshot() == clean


def test_partial_tables_then_all_equals_one_load(empty_db, tmp_path):
    """Loading some tables first (links only, no intel yet), then the whole bundle, ends in the same graph."""
    load([BUNDLE], options(tmp_path))
    clean = snapshot()
    db.wipe()
    db.apply_schema()
    load([BUNDLE / "links.csv", BUNDLE / "requests.csv"], options(tmp_path))
    load([BUNDLE], options(tmp_path))
    assert snapshot() == clean


def test_intel_loaded_later_enriches_existing_ips(empty_db, tmp_path):
    load([BUNDLE / "links.csv"], options(tmp_path))
    assert one("MATCH (ip:IP {value: '10.1.2.3'}) RETURN ip.asn AS asn")["asn"] is None
    load([BUNDLE / "ip_intel.csv"], options(tmp_path))
    ip = one("MATCH (ip:IP {value: '10.1.2.3'})-[:IN_ASN]->(a:ASN) RETURN ip, a.asn AS asn")
    assert ip["asn"] == 64500 and ip["ip"]["network"] == "10.0.0.0/8"


def test_top_k_keeps_the_most_used_ips(empty_db, tmp_path):
    load([BUNDLE / "requests.csv"], options(tmp_path, top_ips=1))
    a1 = one("MATCH (a:Account {account_id: 'a1'}) RETURN a.distinct_ips AS seen, "
             "[(a)-[:USED_IP]->(ip) | ip.value] AS kept")
    # both IPs were used once: the tie goes to the smaller address; the number of all IPs seen is kept
    assert a1["kept"] == ["203.0.113.7"] and a1["seen"] == 2


def test_cli_prints_a_summary(empty_db, tmp_path):
    out = subprocess.run([sys.executable, "-m", "app.cli", "load", str(BUNDLE), "--quiet",
                          "--rejects", str(tmp_path / "rejects.csv")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    table_rows = {line.split()[0]: line.split()[1:] for line in out.stdout.splitlines()[1:7]}
    assert table_rows["requests"] == ["7", "7", "0", "0"]
    assert "graph now: 31 nodes, 41 relationships" in out.stdout
    assert "rejects: none" in out.stdout


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_text_files_larger_than_one_staging_batch_lose_no_row(empty_db, tmp_path, monkeypatch, fmt):
    """Text files are staged in batches; the last, partial batch must be kept (7 requests in batches of 3)."""
    from loaders import tables

    monkeypatch.setattr(tables, "STAGE_BATCH_ROWS", 3)
    folder = bundle_in(fmt, tmp_path / "bundle")
    summary = load([folder], options(tmp_path))
    assert summary.rows_read["requests"] == summary.rows_loaded["requests"] == 7
    assert one("MATCH (a:Account) RETURN sum(a.requests) AS n")["n"] == 7
    assert summary.rows_read["links"] == 8


def test_templates_sent_by_one_account_are_not_stored_by_default(empty_db, tmp_path, monkeypatch):
    monkeypatch.setenv("LINKWATCH_LOAD_MIN_TEMPLATE_ACCOUNTS", "2")
    load([BUNDLE], options(tmp_path))
    assert counts_by_label()["PromptTemplate"] == 1
    sent = db.driver().execute_query(
        "MATCH (a:Account)-[r:SENT]->(t:PromptTemplate) RETURN a.account_id AS a, r.n AS n ORDER BY a").records
    assert [(r["a"], r["n"]) for r in sent] == [("a1", 2), ("a2", 1)]
    # the account's own request count still covers every request
    assert one("MATCH (a:Account {account_id: 'a3'}) RETURN a.requests AS n")["n"] == 2
