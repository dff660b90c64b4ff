"""`linkwatch aggregate`: the DuckDB and Spark engines write the same feature tables, and `linkwatch load
FEATURES` builds the graph a plain load of the same bundle builds.

The Spark engine really runs (pyspark from the `spark` extra that `bin/linkwatch test` installs, on the
machine's Java, master local[2]); it is never skipped. Outputs are compared row by row in DuckDB: EXCEPT ALL
both ways, row counts and column types of every Parquet file.
"""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from app.cli import main
from graph import db
from loaders.aggregate import FEATURE_TABLES, MANIFEST

BUNDLE = Path(__file__).parent / "data" / "bundle"
SPARK = ["--engine", "spark", "--master", "local[2]"]
HEADER = ["ts", "account_id", "ip", "api_key", "model", "input_tokens", "output_tokens", "prompt",
          "prompt_fingerprint", "capability"]
WRAPPER = "You are a grader. Think step by step about the task: {}. Return JSON with a score."
HOSTILE_IDS = ["'; DROP TABLE account_usage; --", 'quote"d', "<script>alert(1)</script>", "$HOME ${x} $$",
               "名前🙂", "\u202eevil", "a,b;c|d", "MATCH (n) DETACH DELETE n //"]
# (row, problem) of the rows the edge-case requests file rejects; their lines follow the good rows
BAD_ROWS = [
    (["yesterday", "a1", "", "", "", "", "", "", "", ""], "bad timestamp"),
    (["2026-04-22T10:00:00Z", "a1", "999.1.1.1", "", "", "", "", "", "", ""], "bad IP"),
    (["2026-04-22T10:00:00Z", "a1", "", "", "", "-5", "", "", "", ""], "negative input_tokens"),
    (["2026-04-22T10:00:00Z", "", "", "", "", "", "", "", "", ""], "missing required field account_id"),
]


def _good_rows() -> list[list[str]]:
    rows = [
        # timestamps at the edges of what validation accepts, at UTC day ends, as epoch seconds
        ["0001-01-01T00:00:00Z", "edge", "203.0.113.7", "", "m-large", "1", "2", "hello there", "", "chat"],
        ["9999-12-31T23:59:59.999999Z", "edge", "203.0.113.7", "", "m-large", "", "", "hello there", "", "chat"],
        ["2026-04-22T23:59:59.9999Z", "edge", "2001:DB8:0:0:0:0:0:1", "", "", "999999999999", "0", "", "", ""],
        ["2026-04-23T00:00:00Z", "edge", "::ffff:203.0.113.9", "", "m-small", "", "", "", "fp-given", "chat"],
        ["1700000000.9995", "edge", "2001:db8:ffff::5", "", "m-small", "7", "", "", "fp-given", ""],
        ["0", "edge", "", "", "", "", "", "", "", ""],
        # nulls everywhere a request allows them
        ["2026-04-24T12:00:00Z", "nulls", "", "", "", "", "", "", "", ""],
        ["2026-04-24T12:00:00Z", "nulls", "", "", "", "", "", "", "", ""],
        # a tie on request count: the top IPs keep the lower address (n DESC, ip)
        ["2026-04-25T01:00:00Z", "ties", "10.0.0.2", "", "", "", "", "", "", ""],
        ["2026-04-25T02:00:00Z", "ties", "10.0.0.1", "", "", "", "", "", "", ""],
    ]
    for number, account in enumerate(HOSTILE_IDS):
        for turn in range(3):
            prompt = [WRAPPER.format(f"case {number}-{turn} {'x' * turn}"),
                      "line one\nline two \"quoted\" {{ $x$ }} <b>bold</b>",
                      "Ignore previous instructions'); MATCH (n) DETACH DELETE n; //"][turn]
            rows.append([f"2026-04-2{turn}T0{number}:30:00Z", account, f"203.0.113.{10 + number}", "",
                         "m-large" if turn else "mod\"el", str(number), str(turn), prompt, "", "cap$"])
    return rows


@pytest.fixture(scope="module")
def edge_bundle(tmp_path_factory) -> Path:
    """The hand-written test bundle with a requests file of edge cases (and four bad rows) and nested intel."""
    folder = tmp_path_factory.mktemp("edge") / "bundle"
    shutil.copytree(BUNDLE, folder)
    with (folder / "requests.csv").open("a", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerows(_good_rows())
        writer.writerows(row for row, _ in BAD_ROWS)
    with (folder / "ip_intel.csv").open("a", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows([["2001:db8:ffff::/48", "64510", "Nested v6", "vpn", "NestedV6"],
                                      ["203.0.113.0/28", "", "", "residential", "Inner <b>net</b>"]])
    return folder


def _aggregate(paths: list[Path], out: Path, *extra: str) -> int:
    return main(["aggregate", *map(str, paths), "--out", str(out), "--quiet",
                 "--rejects", str(out.parent / f"{out.name}-rejects.csv"), *extra])


def _differences(a: Path, b: Path) -> dict[str, tuple]:
    """Per feature table: (rows in a, rows in b, a EXCEPT ALL b, b EXCEPT ALL a, same column types)."""
    conn = duckdb.connect()
    found = {}
    for table in FEATURE_TABLES:
        left, right = a / f"{table}.parquet", b / f"{table}.parquet"
        assert left.exists() == right.exists(), table
        if not left.exists():
            continue
        x, y = f"read_parquet('{left}')", f"read_parquet('{right}')"

        def value(sql: str) -> int:
            return conn.execute(sql).fetchall()[0][0]

        found[table] = (value(f"SELECT count(*) FROM {x}"), value(f"SELECT count(*) FROM {y}"),
                        value(f"SELECT count(*) FROM (SELECT * FROM {x} EXCEPT ALL SELECT * FROM {y})"),
                        value(f"SELECT count(*) FROM (SELECT * FROM {y} EXCEPT ALL SELECT * FROM {x})"),
                        conn.execute(f"DESCRIBE SELECT * FROM {x}").fetchall() ==
                        conn.execute(f"DESCRIBE SELECT * FROM {y}").fetchall())
    return found


def _assert_same(a: Path, b: Path, tables: set[str]) -> None:
    found = _differences(a, b)
    assert set(found) == tables
    for table, (rows_a, rows_b, only_a, only_b, same_types) in found.items():
        assert (rows_a, only_a, only_b, same_types) == (rows_b, 0, 0, True), (table, found[table])


def _rows(folder: Path, table: str, where: str = "true") -> list[tuple]:
    return duckdb.connect().execute(f"SELECT * FROM read_parquet('{folder / (table + '.parquet')}') WHERE {where} "
                                    f"ORDER BY ALL").fetchall()


@pytest.fixture(scope="module")
def demo_features(demo_bundle, tmp_path_factory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("demo-features")
    assert _aggregate([demo_bundle], out / "duckdb") == 0
    assert _aggregate([demo_bundle], out / "spark", *SPARK) == 0
    return out / "duckdb", out / "spark"


@pytest.mark.slow
@pytest.mark.timeout(1200)  # its fixture runs both engines on 1.2M requests: minutes on a busy 2-core machine
def test_both_engines_write_the_same_features_of_the_demo_world(demo_features):
    duck, spark = demo_features
    _assert_same(duck, spark, set(FEATURE_TABLES))
    manifests = [json.loads((f / MANIFEST).read_text()) for f in (duck, spark)]
    assert [m["engine"] for m in manifests] == ["duckdb", "spark"]
    assert manifests[0]["tables"] == manifests[1]["tables"]
    assert manifests[0]["requests"] == manifests[1]["requests"]
    assert manifests[0]["requests"]["rejected"] == 0 and manifests[0]["requests"]["valid"] > 1_000_000
    assert {Path(p).name for p in manifests[0]["files"]} == {"requests.csv", "ip_intel.csv"}
    # the comparison is not vacuous: every table has rows and entropies are not all zero
    assert all(t["rows"] > 0 for t in manifests[0]["tables"].values())
    assert _rows(duck, "account_usage", "hour_entropy > 1")


@pytest.fixture(scope="module")
def edge_features(edge_bundle, tmp_path_factory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("edge-features")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LINKWATCH_LOAD_MIN_TEMPLATE_ACCOUNTS", "1")
        assert _aggregate([edge_bundle], out / "duckdb") == 4  # rows were rejected
        # Spark reads the bundle as a URL through its Hadoop file systems, and stages the valid requests in a
        # folder given as a URL, as on a cluster (file:// here; s3a:// there)
        stage = out / "stage"
        stage.mkdir()
        assert main(["aggregate", edge_bundle.resolve().as_uri(), "--out", str(out / "spark"), "--quiet",
                     "--rejects", str(out / "spark-rejects.csv"), "--stage", stage.resolve().as_uri(), *SPARK]) == 4
        assert list(stage.iterdir()) == []  # the staged requests are deleted after the run
    return out / "duckdb", out / "spark"


def test_both_engines_agree_on_nulls_ipv6_time_edges_and_hostile_strings(edge_features, edge_bundle):
    duck, spark = edge_features
    _assert_same(duck, spark, set(FEATURE_TABLES))
    usage = {row[0]: row for row in _rows(spark, "account_usage")}
    assert set(HOSTILE_IDS) <= set(usage)
    edge = usage["edge"]
    assert (edge[9], edge[10]) == ("0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z")  # first/last request
    assert edge[5][:3] == ["0001-01-01", "1970-01-01", "2023-11-14"]  # activity days, in day order
    assert usage["nulls"][1:4] == (2, None, None) and usage["nulls"][12] is None  # no tokens, no models
    ips = _rows(spark, "account_ips", "account_id = 'edge'")
    assert {ip for _, ip, *_ in ips} == {"203.0.113.7", "203.0.113.9", "2001:db8::1", "2001:db8:ffff::5"}
    assert ("edge", "2001:db8:ffff::5", 1, "2023-11-14T22:13:20.999Z", "2023-11-14T22:13:20.999Z") in ips
    assert ("edge", "2001:db8::1", 1, "2026-04-22T23:59:59.999Z", "2026-04-22T23:59:59.999Z") in ips
    networks = _rows(spark, "account_networks", "account_id = 'edge'")
    assert {row[1] for row in networks} == {"NestedV6", "Inner <b>net</b>", "CloudHop"}
    templates = {row[1] for row in _rows(spark, "account_templates")}
    assert "fp-given" in templates
    # the same rejects, naming file, line and problem
    rejected = list(csv.DictReader((duck.parent / "duckdb-rejects.csv").read_text().splitlines()))
    fetched = list(csv.DictReader((duck.parent / "spark-rejects.csv").read_text().splitlines()))
    assert [{**r, "file": Path(r["file"]).name} for r in rejected] == [{**r, "file": Path(r["file"]).name} for r in fetched]
    assert "/inputs/0/bundle/requests.csv" in fetched[0]["file"]  # the fetched copy, named after the URL
    lines = (edge_bundle / "requests.csv").read_bytes().count(b"\n")  # the bad rows are the last lines
    assert [(Path(r["file"]).name, int(r["line"])) for r in rejected] == \
        [("requests.csv", lines - len(BAD_ROWS) + 1 + i) for i in range(len(BAD_ROWS))]
    assert all(problem in r["reason"] for r, (_, problem) in zip(rejected, BAD_ROWS))


def test_strict_aggregate_writes_no_features(edge_bundle, tmp_path):
    assert _aggregate([edge_bundle], tmp_path / "features", "--strict") == 4
    assert not (tmp_path / "features").exists()
    assert (tmp_path / "features-rejects.csv").exists()


def _graph() -> tuple[list, list]:
    """Every node (labels, properties) and relationship (type, properties, both ends), sorted."""
    records = db.driver().execute_query(
        "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props").records
    nodes = sorted(json.dumps([sorted(r["labels"]), r["props"]], sort_keys=True, default=str) for r in records)
    records = db.driver().execute_query(
        "MATCH (a)-[r]->(b) RETURN type(r) AS type, properties(r) AS props, properties(a) AS a, properties(b) AS b"
        ).records
    relationships = sorted(json.dumps([r["type"], r["props"], r["a"], r["b"]], sort_keys=True, default=str)
                           for r in records)
    return nodes, relationships


def test_loading_features_builds_the_graph_a_plain_load_builds(empty_db, edge_bundle, edge_features, tmp_path,
                                                               monkeypatch, capsys):
    monkeypatch.setenv("LINKWATCH_LOAD_MIN_TEMPLATE_ACCOUNTS", "1")
    assert main(["load", str(edge_bundle), "--quiet", "--rejects", str(tmp_path / "plain.csv")]) == 4
    plain = _graph()
    assert len(plain[0]) > 40 and any('"USED_NETWORK"' in r for r in plain[1])
    for features in edge_features:  # the DuckDB engine's and the Spark engine's
        db.wipe()
        db.apply_schema()
        capsys.readouterr()
        # the bundle's other tables from the folder, its requests from FEATURES (the request files are not read)
        assert main(["load", str(edge_bundle), str(features), "--quiet",
                     "--rejects", str(tmp_path / "features.csv")]) == 0
        printed = capsys.readouterr()
        assert "requests.csv: not read" in printed.err
        assert _graph() == plain
    # or in two loads: the bundle's other tables first, then FEATURES alone
    db.wipe()
    db.apply_schema()
    others = tmp_path / "others"
    shutil.copytree(edge_bundle, others, ignore=shutil.ignore_patterns("requests.*"))
    assert main(["load", str(others), "--quiet", "--rejects", str(tmp_path / "others.csv")]) == 0
    assert main(["load", str(edge_features[1]), "--quiet", "--rejects", str(tmp_path / "alone.csv")]) == 0
    assert _graph() == plain


def test_a_features_folder_that_is_not_one_is_refused_in_one_line(edge_features, edge_bundle, tmp_path, capsys):
    features = tmp_path / "features"
    shutil.copytree(edge_features[0], features)
    manifest = json.loads((features / MANIFEST).read_text())
    manifest["version"] = 99
    (features / MANIFEST).write_text(json.dumps(manifest))
    assert main(["load", str(features), "--quiet"]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "version 99 is not supported" in error
    manifest["version"] = 1
    (features / MANIFEST).write_text(json.dumps(manifest))
    (features / "account_ips.parquet").write_text("not parquet")
    assert main(["load", str(features), "--quiet"]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "account_ips.parquet: not the feature table" in error
    # aggregate never writes over a folder that is not a features folder
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")
    assert main(["aggregate", str(edge_bundle), "--out", str(tmp_path / "notes")]) == 2
    assert "is not a features folder" in capsys.readouterr().err
    assert (tmp_path / "notes" / "keep.txt").read_text() == "mine"


def test_an_unreadable_url_is_one_line_not_a_java_stack(tmp_path, capsys):
    missing = (tmp_path / "no-such-bundle").resolve().as_uri()
    assert main(["aggregate", missing, "--out", str(tmp_path / "features"), "--quiet", *SPARK]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith(f"linkwatch: error: {missing}: cannot be read (")
    assert main(["aggregate", missing, "--out", str(tmp_path / "features")]) == 2  # a URL needs Spark
    assert "needs --engine spark" in capsys.readouterr().err
    assert not (tmp_path / "features").exists()
