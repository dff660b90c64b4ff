"""Benchmark: first load of one bundle into an empty database, bulk import vs transactional MERGE, same run.

Both loads read, validate and aggregate the same bundle the same way; they differ in how the rows reach
Neo4j: ``--bulk always`` (CSV files, stop, ``neo4j-admin database import full``, start, schema and indexes)
vs ``--bulk never`` (batched ``UNWIND … MERGE`` transactions). Wall time per phase; node and relationship
counts per label and type must be equal. It stops, imports into and wipes the managed server of
LINKWATCH_HOME: use a home of its own.

    linkwatch simulate --scale medium --seed 1 --out /tmp/bulk-medium
    LINKWATCH_HOME=.linkwatch/bench LINKWATCH_NEO4J_PORT=7755 .venv/bin/linkwatch neo4j start
    LINKWATCH_HOME=.linkwatch/bench LINKWATCH_NEO4J_PORT=7755 .venv/bin/python bench/bench_bulk.py /tmp/bulk-medium
    LINKWATCH_HOME=.linkwatch/bench LINKWATCH_NEO4J_PORT=7755 .venv/bin/linkwatch neo4j stop
"""
from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph import db  # noqa: E402
from loaders import bulk_import, neo4j_writer, pipeline  # noqa: E402

PHASES: dict[str, float] = defaultdict(float)


def _timed(owner, name: str, phase: str) -> None:
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        started = time.monotonic()
        try:
            return original(*args, **kwargs)
        finally:
            PHASES[phase] += time.monotonic() - started
    setattr(owner, name, wrapper)


_timed(pipeline, "read_sources", "read")
_timed(pipeline, "validate", "validate")
_timed(pipeline, "aggregate_requests", "aggregate requests")
_timed(neo4j_writer.Writer, "write", "MERGE transactions")
_timed(bulk_import.Recorder, "write", "keep rows in DuckDB")


def counts() -> dict[str, int]:
    out = {}
    for record in db.driver().execute_query(
            "MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n", database_=db.database()).records:
        out[f"(:{record['label']})"] = record["n"]
    for record in db.driver().execute_query(
            "MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n", database_=db.database()).records:
        out[f"[:{record['type']}]"] = record["n"]
    return dict(sorted(out.items()))


def run(bundle: Path, mode: str) -> dict:
    PHASES.clear()
    db.wipe()
    started = time.monotonic()
    summary = pipeline.load([bundle], pipeline.LoadOptions(bulk=mode, progress=False))
    total = time.monotonic() - started
    phases = dict(PHASES)
    phases.update(summary.bulk_phases)
    if mode == "never":
        phases["schema (before writing)"] = 0.0  # inside the total; the schema is applied to the empty database
    return {"mode": mode, "seconds": round(total, 1), "phases": {k: round(v, 1) for k, v in phases.items()},
            "rows_written": sum(summary.stats.rows.values()), "graph": counts()}


def main() -> int:
    bundle = Path(sys.argv[1])
    bulk = run(bundle, "always")
    print(json.dumps(bulk, indent=1), flush=True)
    transactional = run(bundle, "never")
    print(json.dumps(transactional, indent=1), flush=True)
    assert bulk["graph"] == transactional["graph"], (bulk["graph"], transactional["graph"])
    print(f"ratio transactional / bulk (whole load): {transactional['seconds'] / bulk['seconds']:.2f}")
    write_tx = transactional["phases"].get("MERGE transactions", 0.0)
    write_bulk = sum(v for k, v in bulk["phases"].items() if k not in ("read", "validate", "aggregate requests"))
    print(f"writing only: transactional {write_tx:.1f} s, bulk {write_bulk:.1f} s, ratio {write_tx / write_bulk:.2f}")
    print(f"rows written per second, transactional: {transactional['rows_written'] / max(write_tx, 1e-9):,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
