"""Bad input: every rejected row or file is named with its line and reason, valid rows still load,
--strict writes nothing, and no traceback ever reaches the user."""
from __future__ import annotations

import csv
import gzip
import subprocess
import sys
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graph import db
from loaders.pipeline import LoadOptions, load
from loaders.spec import EXIT_REJECTED

ACCOUNTS = (
    "account_id,created_at,email,org,country,plan,status,favourite_colour\n"
    "b1,2026-04-20T10:00:00Z,,,,,active,blue\n"
    "b2,yesterday,,,,,active,red\n"
    "b3,,,,,,,\n"
    "b3,,,,,,banned,\n"
    ",2026-04-20T10:00:00Z,,,,,,\n"
    'b4,,,,,,,"two\nlines"\n'
    "b5,,,,XX1,,,\n"
)
LINKS = (
    b"account_id,kind,value,first_seen,last_seen,count\n"
    b"b1,payment,pm_1,,,3\n"
    b"b1,Payment,pm_2,,,\n"
    b"b2,payment,pm_1,,,-2\n"
    b"b2,ip,999.1.1.1,,,\n"
    b"b3,device,,,,\n"
    b"b3,device,d1,,\n"
    b"b3,device,\xff\xfe,,,\n"
    b"b4,device,d2,2026-04-25T00:00:00Z,2026-04-24T00:00:00Z,1\n"
    b"b4,device,d3,,,1\n"
)
REQUESTS = (
    '{"ts": "2026-04-22T13:00:00Z", "account_id": "b1", "ip": "203.0.113.9"}\n'
    '{"ts": "13:00", "account_id": "b1"}\n'
    '{"account_id": "b2", "ip": "1.2.3"}\n'
    "not json\n"
    '{"ts": 1777000000, "account_id": "b2", "input_tokens": "many"}\n'
)
INTEL = "network,asn\n" + "".join(f"10.{i // 256}.{i % 256}.0/24,{64000 + i}\n" for i in range(300))

TIMESTAMP_HINT = "(ISO-8601 or epoch seconds expected)"


@pytest.fixture
def bad_bundle(tmp_path) -> tuple[Path, int]:
    """A bundle with one of each kind of problem; returns (folder, complete lines in the truncated gzip)."""
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "accounts.csv").write_text(ACCOUNTS)
    (folder / "links.csv").write_bytes(LINKS)
    (folder / "requests.jsonl").write_text(REQUESTS)
    compressed = gzip.compress(INTEL.encode(), mtime=0)
    truncated = compressed[: len(compressed) // 2]
    (folder / "ip_intel.csv.gz").write_bytes(truncated)
    (folder / "relations.csv").write_bytes(b"")
    (folder / "labels.csv").write_text("account_id,verdict\nb1,fraud\n")
    complete_lines = zlib.decompressobj(wbits=31).decompress(truncated).count(b"\n")
    return folder, complete_lines


def read_rejects(path: Path) -> list[tuple[str, str, str, str]]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [(Path(r["file"]).name, r["line"], r["column"], r["reason"]) for r in rows]


def expected_rejects(complete_lines: int) -> list[tuple[str, str, str, str]]:
    return [
        ("accounts.csv", "3", "created_at", f"bad timestamp 'yesterday' {TIMESTAMP_HINT}"),
        ("accounts.csv", "6", "account_id", "missing required field account_id"),
        ("accounts.csv", "9", "country", "bad country 'XX1' (ISO 3166 alpha-2 code expected)"),
        ("ip_intel.csv.gz", "", "", f"truncated gzip: the compressed stream ends after line {complete_lines}"),
        ("labels.csv", "1", "", "missing required column(s) label (found: account_id, verdict)"),
        ("links.csv", "3", "kind", "unknown kind 'Payment' (a kind is a lowercase word: [a-z][a-z0-9_]*)"),
        ("links.csv", "4", "count", "negative count -2"),
        ("links.csv", "5", "value", "bad IP '999.1.1.1'"),
        ("links.csv", "6", "value", "missing required field value"),
        ("links.csv", "7", "", "expected 6 fields, found 5"),
        ("links.csv", "8", "", "not UTF-8: byte 0xff at position 11"),
        ("links.csv", "9", "last_seen", "last_seen 2026-04-24T00:00:00Z is before first_seen 2026-04-25T00:00:00Z"),
        ("relations.csv", "", "", "empty file"),
        ("requests.jsonl", "2", "ts", f"bad timestamp '13:00' {TIMESTAMP_HINT}"),
        ("requests.jsonl", "3", "ip", "bad IP '1.2.3'"),
        ("requests.jsonl", "3", "ts", "missing required field ts"),
        ("requests.jsonl", "4", "", "invalid JSON: Expecting value at column 1"),
        ("requests.jsonl", "5", "input_tokens", "bad input_tokens 'many' (a whole number expected)"),
    ]


def node_count() -> int:
    records, _, _ = db.driver().execute_query("MATCH (n) RETURN count(n) AS n")
    return records[0]["n"]


def test_every_problem_is_rejected_with_its_line_and_valid_rows_load(empty_db, bad_bundle, tmp_path):
    folder, complete_lines = bad_bundle
    rejects = tmp_path / "rejects.csv"
    summary = load([folder], LoadOptions(rejects_path=rejects, progress=False))
    assert read_rejects(rejects) == sorted(expected_rejects(complete_lines), key=lambda r: (r[0], int(r[1] or -1), r[2], r[3]))
    assert dict(summary.log.rejected_rows) == {"accounts": 3, "links": 7, "requests": 4}
    assert dict(summary.log.rejected_files) == {"ip_intel": 1, "relations": 1, "labels": 1}
    assert summary.rows_read == {"accounts": 7, "links": 9, "requests": 5, "ip_intel": complete_lines - 1}
    assert summary.rows_loaded == {"accounts": 4, "links": 2, "requests": 1, "ip_intel": complete_lines - 1}
    assert summary.keys["accounts"] == 3  # b1, b3 (two complementary rows), b4
    assert summary.log.warnings == [f"{folder / 'accounts.csv'}: ignored unknown column(s) favourite_colour "
                                    "(accounts has account_id, created_at, email, org, country, plan, status)"]
    records, _, _ = db.driver().execute_query("MATCH (a:Account) RETURN a.account_id AS id, a.status AS status ORDER BY id")
    # b4's multi-line record is valid; b3's two rows complement each other (a missing status is no conflict)
    assert [(r["id"], r["status"]) for r in records] == [("b1", "active"), ("b3", "banned"), ("b4", None)]
    records, _, _ = db.driver().execute_query("MATCH (n:IPNetwork) RETURN count(n) AS n")
    assert records[0]["n"] == complete_lines - 1  # rows before the truncation still load


def test_strict_writes_nothing(empty_db, bad_bundle, tmp_path):
    folder, complete_lines = bad_bundle
    rejects = tmp_path / "rejects.csv"
    summary = load([folder], LoadOptions(rejects_path=rejects, strict=True, progress=False))
    assert not summary.written
    assert node_count() == 0
    assert len(read_rejects(rejects)) == len(expected_rejects(complete_lines))


def test_cli_exit_code_and_no_traceback(empty_db, bad_bundle, tmp_path):
    folder, _ = bad_bundle
    out = subprocess.run([sys.executable, "-m", "app.cli", "load", str(folder), "--strict", "--quiet",
                          "--rejects", str(tmp_path / "rejects.csv")], capture_output=True, text=True)
    assert out.returncode == EXIT_REJECTED
    assert "Traceback" not in out.stderr
    assert "linkwatch: warning: " in out.stderr and "favourite_colour" in out.stderr
    assert "neo4j: nothing written (--strict and input was rejected)" in out.stdout
    assert node_count() == 0


def test_parquet_rejects_name_the_row_index(empty_db, tmp_path):
    folder = tmp_path / "pq"
    folder.mkdir()
    pq.write_table(pa.table({"ts": ["2026-04-22T13:00:00Z", "soon", None],
                             "account_id": ["p1", "p1", "p2"],
                             "input_tokens": pa.array([5, -3, 1], pa.int64())}), folder / "requests.parquet")
    rejects = tmp_path / "rejects.csv"
    summary = load([folder], LoadOptions(rejects_path=rejects, progress=False))
    assert read_rejects(rejects) == [
        ("requests.parquet", "1", "input_tokens", "negative input_tokens -3"),
        ("requests.parquet", "1", "ts", f"bad timestamp 'soon' {TIMESTAMP_HINT}"),
        ("requests.parquet", "2", "ts", "missing required field ts"),
    ]
    assert summary.rows_loaded == {"requests": 1}
    records, _, _ = db.driver().execute_query("MATCH (a:Account) RETURN a.account_id AS id, a.input_tokens AS tokens")
    assert [(r["id"], r["tokens"]) for r in records] == [("p1", 5)]


@pytest.mark.parametrize("args, message", [
    (["{tmp}/nowhere"], "{tmp}/nowhere: no such file or folder"),
    (["{tmp}/notes.txt"], "{tmp}/notes.txt: not a bundle table file"),
    (["{tmp}/x.csv", "--mapping", "{tmp}/bad.toml"], "{tmp}/bad.toml: 'card' is not a column of links"),
    (["{tmp}/x.csv", "--mapping", "{tmp}/bad.toml", "--format", "tor-exits"], "--mapping and --format cannot be combined"),
])
def test_user_errors_are_one_line(neo4j, tmp_path, args, message):
    (tmp_path / "notes.txt").write_text("hello\n")
    (tmp_path / "x.csv").write_text("user_id,card\nu1,c1\n")
    (tmp_path / "bad.toml").write_text('table = "links"\n[columns]\nuser_id = "account_id"\ncard_id = "card"\n')
    argv = [a.format(tmp=tmp_path) for a in args]
    out = subprocess.run([sys.executable, "-m", "app.cli", "load", *argv, "--quiet"], capture_output=True, text=True)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"linkwatch: error: {message.format(tmp=tmp_path)}")
