"""Benchmark: `linkwatch load` write throughput against two baselines on the same file and server.

1. the loader (read + validate + batched UNWIND writes), end to end;
2. the server's own ``LOAD CSV … CALL { … } IN TRANSACTIONS OF 10000 ROWS`` with the same MERGE
   logic (bench/cypher/load_csv_links.cypher), the CSV copied into the managed Neo4j's import dir;
3. a naive loop writing one row per transaction, on a subset, extrapolated (stated as such).

Every run starts from an empty database with the schema applied; the graph each produces is checked
to be the same. Run it against your own server (it wipes the database):

    LINKWATCH_HOME=/tmp/lw-bench-load LINKWATCH_NEO4J_PORT=7712 .venv/bin/linkwatch neo4j start
    LINKWATCH_HOME=/tmp/lw-bench-load LINKWATCH_NEO4J_PORT=7712 .venv/bin/python bench/bench_load.py
    LINKWATCH_HOME=/tmp/lw-bench-load LINKWATCH_NEO4J_PORT=7712 .venv/bin/linkwatch neo4j stop
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph import cypher, db  # noqa: E402
from graph.config import connection, managed_paths  # noqa: E402
from loaders.pipeline import LoadOptions, load  # noqa: E402

OUT = ROOT / "bench" / "out" / "load"
KINDS = [("payment", 8_000), ("device", 15_000), ("email", 24_000), ("ip", 60_000), ("promo_code", 500)]


def make_links(path: Path, rows: int, accounts: int, seed: int = 7) -> None:
    """A links table: each row an account and one identifier drawn from a shared pool per kind."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    seen = set()
    with path.open("w") as out:
        out.write("account_id,kind,value,first_seen,last_seen,count\n")
        while len(seen) < rows:
            account = f"acct_{rng.randrange(accounts):05d}"
            kind, pool = rng.choice(KINDS)
            value = f"{kind[:3]}_{rng.randrange(pool):06d}" if kind != "ip" else \
                f"10.{rng.randrange(4)}.{rng.randrange(256)}.{rng.randrange(60)}"
            if (account, kind, value) in seen:
                continue
            seen.add((account, kind, value))
            day = 1 + rng.randrange(20)
            out.write(f"{account},{kind},{value},2026-05-{day:02d}T08:00:00Z,2026-05-{day + 5:02d}T20:00:00Z,"
                      f"{1 + rng.randrange(40)}\n")


def fresh_database() -> None:
    db.wipe()
    db.apply_schema()


def graph_counts() -> tuple[int, int]:
    records, _, _ = db.driver().execute_query(cypher.query("load/graph_counts"))
    return records[0]["nodes"], records[0]["relationships"]


def run_loader(folder: Path, batch_size: int) -> float:
    fresh_database()
    started = time.monotonic()
    summary = load([folder], LoadOptions(rejects_path=OUT / "rejects.csv", batch_size=batch_size, progress=False))
    elapsed = time.monotonic() - started
    assert not summary.log.any, "the benchmark input must load without rejects"
    return elapsed


def run_load_csv(csv_path: Path) -> float:
    fresh_database()
    import_dir = managed_paths().neo4j_home / "import"
    import_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(csv_path, import_dir / csv_path.name)
    query = (ROOT / "bench" / "cypher" / "load_csv_links.cypher").read_text()
    started = time.monotonic()
    with db.driver().session(database=db.database()) as session:
        session.run(query, url=f"file:///{csv_path.name}").consume()
    return time.monotonic() - started


def run_naive(csv_path: Path, subset: int) -> float:
    """One transaction per row (same statement as the loader, a batch of one), on the first ``subset`` rows."""
    import csv

    fresh_database()
    query = cypher.query("load/links")
    with csv_path.open() as handle:
        rows = [dict(r, count=int(r["count"])) for _, r in zip(range(subset), csv.DictReader(handle))]
    started = time.monotonic()
    with db.driver().session(database=db.database()) as session:
        for row in rows:
            session.execute_write(lambda tx, r=row: tx.run(query, rows=[r]).consume())
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--accounts", type=int, default=25_000)
    parser.add_argument("--naive-subset", type=int, default=3_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2, help="runs of the loader and of LOAD CSV, alternated")
    args = parser.parse_args()
    if connection().uri.endswith(":7687") or connection().uri.endswith(":7697"):
        sys.exit("refusing to wipe the default or test server: set LINKWATCH_HOME and LINKWATCH_NEO4J_PORT")

    folder = OUT / f"links-{args.rows}"
    csv_path = folder / "links.csv"
    if not csv_path.exists():
        make_links(csv_path, args.rows, args.accounts)

    results: dict[str, list[float]] = {"loader": [], "load_csv": []}
    shapes = {}
    for _ in range(args.repeat):
        results["loader"].append(run_loader(folder, args.batch_size))
        shapes["loader"] = graph_counts()
        results["load_csv"].append(run_load_csv(csv_path))
        shapes["load_csv"] = graph_counts()
    naive_seconds = run_naive(csv_path, args.naive_subset)
    assert shapes["loader"] == shapes["load_csv"], shapes

    best_loader, best_csv = min(results["loader"]), min(results["load_csv"])
    naive_extrapolated = naive_seconds / args.naive_subset * args.rows
    report = {
        "rows": args.rows,
        "graph (nodes, relationships)": shapes["loader"],
        "loader seconds (each run)": [round(s, 1) for s in results["loader"]],
        "LOAD CSV seconds (each run)": [round(s, 1) for s in results["load_csv"]],
        "loader rows/s (best run)": round(args.rows / best_loader),
        "LOAD CSV rows/s (best run)": round(args.rows / best_csv),
        "loader vs LOAD CSV (best runs, >1 = loader faster)": round(best_csv / best_loader, 2),
        f"naive: {args.naive_subset} rows, one transaction each, seconds": round(naive_seconds, 1),
        "naive extrapolated to all rows, seconds": round(naive_extrapolated),
        "loader vs naive (extrapolated)": round(naive_extrapolated / best_loader, 1),
        "load average at end": os.getloadavg(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
