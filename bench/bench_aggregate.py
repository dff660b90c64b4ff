"""Benchmark: validate + aggregate a seed-scale synthetic requests table (28.8M rows) with DuckDB.

Generates (once, git-ignored under bench/out/) a Parquet file shaped like the public case:
25,000 accounts, 45 days, an IP rotated on every request (drawn from 2^25 addresses in 512
/16 blocks, each with ip_intel), ~30 prompt templates with slot-filled variants. Then runs,
in a fresh process so peak RSS is the loader's own: reading, SQL validation and the
aggregation that `linkwatch load` performs before writing to Neo4j (no Neo4j needed).

    .venv/bin/python bench/bench_aggregate.py [--rows 28800000]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
ACCOUNTS = 25_000
DAYS = 45
BLOCKS = 512  # /16 blocks of the rotating proxy pool: 2^25 addresses

TEMPLATES = [
    "Solve step by step and show every intermediate result: what is {a} times {b}?",
    "You are a strict grader. Score the answer below from {a} to {b} and justify the score.",
    "Write a Python function that returns the {a}th prime number, then explain its complexity.",
    "Explain your reasoning before answering: a train leaves at {a} and arrives at {b}; how long?",
    "Translate the following sentence into French, keeping the tone formal: order {a} ships on day {b}.",
    "List {a} tools an agent would call to book a flight, with the arguments of each call.",
    "Rewrite the paragraph about topic {a} so it contains no politically sensitive content.",
    "Given the JSON schema {a}, produce a valid example object and explain each field.",
    "Describe what is shown in image {a} and count the objects of type {b}.",
    "Prove that the sum of the first {a} odd numbers equals {a} squared.",
    "Summarise the document {a} in {b} bullet points for an executive audience.",
    "Debug this stack trace from service {a} and propose a fix with a unit test.",
    "Compare algorithm {a} with algorithm {b} on time and memory, in a table.",
    "Write the SQL query that returns the top {a} customers by revenue in year {b}.",
    "Think aloud: which of the {a} options is the best move in this chess position {b}?",
    "Plan a {a}-step research agenda on protein folding and cite the key sub-problems.",
    "Generate {a} diverse test cases for a function that parses dates like {b}.",
    "Act as a tutor and explain derivative rule number {a} with {b} worked examples.",
    "Classify the sentiment of review {a} and give the probability of each class.",
    "Refactor this {a}-line JavaScript module into TypeScript with strict types.",
    "What are the safety considerations when mixing chemical {a} with chemical {b}?",
    "Draft an email to customer {a} explaining the delay of order {b} politely.",
    "Extract every date and amount from invoice {a} and return them as CSV.",
    "Explain the proof of theorem {a} to a high-school student in {b} paragraphs.",
    "Write a shell script that rotates logs older than {a} days on {b} servers.",
    "Evaluate the following answer for factual errors and list each with a correction: fact {a}.",
    "Create a lesson plan for week {a} of an introductory statistics course.",
    "Simulate a tool call to the weather API for city {a} and interpret result {b}.",
    "Reason carefully: if {a} machines make {b} widgets in {a} minutes, how many per hour?",
    "Write unit tests in pytest for the function described in ticket {a}.",
]


def generate(path: Path, rows: int) -> None:
    """The synthetic requests table and its ip_intel, written with DuckDB (no Python per-row loop)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect()
    conn.execute("SET memory_limit = '6GB'")
    templates = "[" + ", ".join("'" + t.replace("'", "''") + "'" for t in TEMPLATES) + "]"
    conn.execute(f"""
        COPY (
          WITH r AS (SELECT i, (hash(i) >> 1)::BIGINT AS h1, (hash(i + 7919) >> 1)::BIGINT AS h2 FROM range({rows}) t(i))
          SELECT
            TIMESTAMPTZ '2026-04-22 00:00:00+00' + to_seconds((h1 % ({DAYS} * 86400))::BIGINT) AS ts,
            'acct_' || lpad(((h2 >> 3) % {ACCOUNTS})::VARCHAR, 5, '0') AS account_id,
            -- one /16 per request from 512 blocks starting at 16.0.0.0, random host inside
            (16 + ((h2 >> 20) % {BLOCKS}) // 256)::VARCHAR || '.' || (((h2 >> 20) % {BLOCKS}) % 256)::VARCHAR || '.'
              || ((h1 >> 24) % 256)::VARCHAR || '.' || ((h1 >> 32) % 256)::VARCHAR AS ip,
            ['m-large', 'm-medium', 'm-small'][1 + (h2 >> 40) % 3] AS model,
            (50 + (h1 >> 40) % 2000)::BIGINT AS input_tokens,
            (100 + (h2 >> 44) % 4000)::BIGINT AS output_tokens,
            replace(replace({templates}[1 + (h1 >> 48) % {len(TEMPLATES)}],
                    '{{a}}', ((h2 >> 48) % 40)::VARCHAR), '{{b}}', ((h2 >> 54) % 25)::VARCHAR) AS prompt,
            ['reasoning', 'coding', 'tool_use', 'grading', 'vision'][1 + (h1 >> 52) % 5] AS capability
          FROM r
        ) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 500000)""")
    conn.execute(f"""
        COPY (
          SELECT (16 + b // 256)::VARCHAR || '.' || (b % 256)::VARCHAR || '.0.0/16' AS network,
                 (64000 + b // 4)::VARCHAR AS asn, 'Transit ' || (b // 4)::VARCHAR AS as_org,
                 CASE WHEN b % 8 = 0 THEN 'residential' ELSE 'none' END AS proxy_type,
                 CASE WHEN b % 8 = 0 THEN 'hydra' END AS proxy_network
          FROM range({BLOCKS}) t(b)
        ) TO '{path.parent / "ip_intel.csv"}' (HEADER)""")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(bundle: Path) -> dict:
    """Read, validate and aggregate like `linkwatch load` (in this process); phase seconds and peak RSS.

    CPU seconds are reported next to wall seconds: on a shared machine they vary far less between runs.
    """
    from loaders.aggregate import aggregate_requests
    from loaders.ipintel import SEGMENT_COLUMNS, build_segments
    from loaders.pipeline import _connect
    from loaders.reading import read_sources
    from loaders.rejects import RejectLog
    from graph.config import setting
    from loaders.tables import create_raw_views, discover
    from loaders.validate import validate

    phases, cpu = {}, {}
    log = RejectLog()
    with tempfile.TemporaryDirectory(prefix="bench-aggregate-") as tmp:
        work = Path(tmp)
        (work / "staged").mkdir()
        conn = _connect(work)
        started, cpu_started = time.monotonic(), _cpu_seconds()
        selects = read_sources(conn, discover([bundle], log), work / "staged", log, progress=False)
        create_raw_views(conn, selects)
        rows = validate(conn, set(selects), log)
        phases["read + validate"] = time.monotonic() - started
        cpu["read + validate"] = _cpu_seconds() - cpu_started
        mark, cpu_mark = time.monotonic(), _cpu_seconds()
        intel = conn.sql("SELECT network, asn, as_org, proxy_type, proxy_network FROM valid_ip_intel").fetchall()
        build_segments(conn, [dict(zip(SEGMENT_COLUMNS, row)) for row in intel])
        aggregate_requests(conn, int(setting("LINKWATCH_LOAD_TOP_IPS")), float(setting("LINKWATCH_LOAD_LSH_THRESHOLD")),
                           int(setting("LINKWATCH_LOAD_LSH_MAX_TEXTS")),
                           int(setting("LINKWATCH_LOAD_MIN_TEMPLATE_ACCOUNTS")), have_intel=True)
        phases["aggregate"] = time.monotonic() - mark
        cpu["aggregate"] = _cpu_seconds() - cpu_mark
        phases["total"] = time.monotonic() - started
        cpu["total"] = _cpu_seconds() - cpu_started
        sizes = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                 for t in ("account_usage", "account_ip_pairs", "account_ips", "account_networks", "account_asns",
                           "templates", "account_templates")}
        conn.close()
    return {"rows": rows, "rejected": dict(log.rejected_rows), "seconds": phases, "cpu_seconds": cpu,
            "output_rows": sizes,
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=28_800_000)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # internal: run in a fresh process
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    bundle = OUT / f"requests-{args.rows}"
    if not (bundle / "requests.parquet").exists():
        started = time.monotonic()
        generate(bundle / "requests.parquet", args.rows)
        print(f"generated {args.rows:,} requests in {time.monotonic() - started:.1f} s -> {bundle}", file=sys.stderr)
    result = subprocess.run([sys.executable, __file__, "--measure", str(bundle)], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    if result.returncode != 0:
        sys.exit(result.stderr)
    report = json.loads(result.stdout)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
