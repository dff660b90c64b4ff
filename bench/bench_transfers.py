"""Benchmark: a transfer table with repeated pairs keeps 100 % of the rows' information.

A P2P-style `relations` table (payer, payee, kind=paid, ts, amount) where pairs repeat (heavy-tailed: most
pairs pay once, a few hundreds of times, as on a real payment platform) is loaded with `linkwatch load`, then
the graph is checked against the file itself:

* distinct (payer, payee, kind) in the file  ==  RELATED relationships in the graph;
* rows in the file  ==  sum of RELATED.count;  sum of amounts  ==  sum of RELATED.amount (to the cent);
* earliest / latest ts per pair  ==  first_seen / last_seen (checked on every pair);
* a second identical load changes nothing (no double counting).

30 % of the rows start a new pair; the others repeat the pair of an earlier row picked at random, so most
pairs pay once or twice and a few pay hundreds of times.

Baseline in the same run: the same number of rows with every pair distinct (nothing to aggregate), so the
ratio shows what aggregation costs. It wipes the database: run it against your own server:

    LINKWATCH_HOME=/tmp/lw-bench-tr LINKWATCH_NEO4J_PORT=7713 .venv/bin/linkwatch neo4j start
    LINKWATCH_HOME=/tmp/lw-bench-tr LINKWATCH_NEO4J_PORT=7713 .venv/bin/python bench/bench_transfers.py --rows 1000000
    LINKWATCH_HOME=/tmp/lw-bench-tr LINKWATCH_NEO4J_PORT=7713 .venv/bin/linkwatch neo4j stop
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph import db  # noqa: E402
from loaders.pipeline import LoadOptions, load  # noqa: E402

OUT = ROOT / "bench" / "out" / "transfers"
NEW_PAIR = 0.3  # share of rows that start a new pair (the rest repeat an earlier one)


def make_transfers(path: Path, rows: int, users: int, repeated: bool, seed: int = 11) -> dict:
    """Write the table and return its ground truth: {pair: [count, amount in cents, first ts, last ts]}."""
    rng = random.Random(seed)
    truth: dict[tuple[str, str], list] = defaultdict(lambda: [0, 0, None, None])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        out.write("account_id,other_account_id,kind,ts,amount\n")
        history: list[tuple[str, str]] = []  # the pair of every row so far
        for n in range(rows):
            if not repeated:
                payer, payee = f"u{n % users:06d}", f"v{n:08d}"
            elif not history or rng.random() < NEW_PAIR:
                payer, payee = f"u{rng.randrange(users):06d}", f"u{rng.randrange(users):06d}"
            else:
                # repeat the pair of an earlier row picked at random: pairs that paid often pay again more
                # often (preferential attachment), so most pairs pay once or twice and a few hundreds of times
                payer, payee = history[rng.randrange(len(history))]
            if repeated:
                history.append((payer, payee))
            cents = rng.randrange(100, 100_000)
            ts = f"2017-{1 + rng.randrange(12):02d}-{1 + rng.randrange(28):02d}T{rng.randrange(24):02d}:00:00Z"
            out.write(f"{payer},{payee},paid,{ts},{cents // 100}.{cents % 100:02d}\n")
            agg = truth[(payer, payee)]
            agg[0] += 1
            agg[1] += cents
            agg[2] = ts if agg[2] is None or ts < agg[2] else agg[2]
            agg[3] = ts if agg[3] is None or ts > agg[3] else agg[3]
    return dict(truth)


def graph_relations() -> dict[tuple[str, str], list]:
    records, _, _ = db.driver().execute_query(
        "MATCH (a:Account)-[r:RELATED]->(b:Account) RETURN a.account_id AS a, b.account_id AS b, "
        "r.count AS n, r.amount AS amount, toString(r.first_seen) AS first, toString(r.last_seen) AS last")
    return {(r["a"], r["b"]): [r["n"], int(Decimal(str(r["amount"])) * 100), r["first"], r["last"]] for r in records}


def run(rows: int, users: int, repeated: bool) -> dict:
    path = OUT / f"{'repeated' if repeated else 'distinct'}-{rows}" / "relations.csv"
    truth = make_transfers(path, rows, users, repeated)
    db.wipe()
    db.apply_schema()
    options = LoadOptions(rejects_path=OUT / "rejects.csv", progress=False)
    started = time.monotonic()
    summary = load([path], options)
    seconds = time.monotonic() - started
    found = graph_relations()
    again = load([path], options)
    counts = [c for c, *_ in truth.values()]
    return {
        "rows": rows, "repeated": repeated, "seconds": round(seconds, 1), "rows_per_s": round(rows / seconds),
        "rejected": summary.log.rejected_rows.total(), "distinct_pairs": len(truth), "relationships": len(found),
        "max_per_pair": max(counts), "pairs_once": sum(1 for c in counts if c == 1),
        "sum_count": sum(v[0] for v in found.values()),
        "amount_file": sum(v[1] for v in truth.values()) / 100, "amount_graph": sum(v[1] for v in found.values()) / 100,
        "every_pair_exact": found == truth,
        "rerun_created": again.stats.counters["relationships_created"] + again.stats.counters["nodes_created"],
        "rerun_same": graph_relations() == found,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=30_000)
    args = parser.parse_args()
    results = []
    for repeated in (True, False):
        results.append(run(args.rows, args.users, repeated))
        print(json.dumps(results[-1]), flush=True)
    print(json.dumps({"seconds_repeated_vs_distinct_baseline": round(results[0]["seconds"] / results[1]["seconds"], 2)}))


if __name__ == "__main__":
    main()
