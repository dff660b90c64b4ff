"""Per-account risk ranking on randomised P2P-style worlds, labels held aside: unseeded AUC against the plain
single-feature baselines computed in the same run, and the seeded ranking (half the labels as seeds) on the
other half.

For each world seed: ``simulate --scale p2p`` → wipe → load → ``pipeline.run`` (GDS) → AUCs against
``heldout_labels.csv``; then personalised PageRank from a random half of the fraud labels and the seeded risk
evaluated on every other account. Appends a section to bench/RESULTS.md (machine, date, command, figures,
same-run differences), worst case and median across worlds.

    LINKWATCH_HOME=… LINKWATCH_NEO4J_PORT=… .venv/bin/python bench/bench_risk.py --seeds 1 2 3

It wipes the configured database: run it against a managed Neo4j of its own.
Baselines (from the bundle's own files, independent of the scorer): cards per account; shared-identifier degree
(distinct other accounts sharing a card or device with it); component size (accounts joined by shared cards or
devices, every identifier counted).
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import igraph as ig
import numpy as np

from app.cli import main as linkwatch
from graph import db
from graph.detect import pipeline, risk, seeded
from graph.detect.evaluate import auc

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def baselines(bundle: Path, accounts: list[str]) -> dict[str, np.ndarray]:
    """Plain single-feature rankings from the bundle's links file."""
    index = {a: i for i, a in enumerate(accounts)}
    members: dict[tuple[str, str], list[int]] = defaultdict(list)
    with (bundle / "links.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["kind"] in ("payment", "device"):
                members[(row["kind"], row["value"])].append(index[row["account_id"]])
    n = len(accounts)
    cards = np.zeros(n)
    neighbours: list[set[int]] = [set() for _ in range(n)]
    edges, vertex = [], n
    for (kind, _), users in members.items():
        if kind == "payment":
            np.add.at(cards, users, 1)
        if len(users) > 1:
            for u in users:
                neighbours[u].update(users)
                edges.append((u, vertex))
            vertex += 1
    membership = np.asarray(ig.Graph(n=vertex, edges=edges).connected_components().membership)
    sizes = np.bincount(membership[:n])
    return {"cards_per_account": cards,
            "shared_identifier_degree": np.array([max(len(s) - 1, 0) for s in neighbours], dtype=float),
            "component_size": sizes[membership[:n]].astype(float)}


def one_world(seed: int, users: int, workdir: Path) -> dict:
    bundle = workdir / f"p2p-{seed}"
    timings = {}
    with contextlib.redirect_stdout(sys.stderr):
        start = time.perf_counter()
        # transfers as the platform logs them: one row per payment, repeated pairs aggregated by the loader
        args = ["simulate", "--scale", "p2p", "--seed", str(seed), "--out", str(bundle), "--quiet"] + (
            ["--accounts", str(users)] if users else [])
        assert linkwatch(args) == 0
        timings["simulate"] = round(time.perf_counter() - start, 1)
        db.wipe()
        db.apply_schema()
        start = time.perf_counter()
        assert linkwatch(["load", str(bundle), "--quiet", "--rejects", str(workdir / f"rejects-{seed}.csv")]) == 0
        timings["load"] = round(time.perf_counter() - start, 1)
    load_average = os.getloadavg()[0]
    start = time.perf_counter()
    result = pipeline.run("gds")
    timings["detect"] = round(time.perf_counter() - start, 1)
    timings["detect_steps"] = result.seconds
    accounts = result.risk.accounts
    with (bundle / "heldout_labels.csv").open(newline="", encoding="utf-8") as handle:
        fraud = {r["account_id"] for r in csv.DictReader(handle) if r["label"] == "fraud"}
    y = np.array([a in fraud for a in accounts])
    plain = baselines(bundle, accounts)
    unseeded = {"risk": auc(result.risk.risk, y), **{name: auc(v, y) for name, v in plain.items()}}

    # seeded: a random half of the labelled fraud accounts as seeds, evaluated on every other account
    rng = np.random.default_rng(seed)
    labelled = sorted(fraud)
    seeds = sorted(rng.choice(labelled, len(labelled) // 2, replace=False).tolist())
    start = time.perf_counter()
    with_seeds = risk.compute(accounts, result.partition.communities,
                              risk.cluster_scores(result.clusters, result.account_scores), seeds=seeds)
    timings["seeded_risk"] = round(time.perf_counter() - start, 1)
    linkage_walk = seeded.proximity(seeds, "gds")  # the walk over the whole linkage (detect's leads), for comparison
    rest = ~np.isin(np.asarray(accounts), seeds)
    seeded_auc = {"seeded_risk": auc(with_seeds.seeded_risk[rest], y[rest]),
                  "risk": auc(result.risk.risk[rest], y[rest]),
                  "cards_per_account": auc(plain["cards_per_account"][rest], y[rest]),
                  "seed_proximity_only": auc(with_seeds.features["seed_proximity"][rest], y[rest]),
                  "linkage_pagerank_only": auc(np.array([linkage_walk.get(a, 0.0) for a in accounts])[rest], y[rest])}
    return {"seed": seed, "accounts": len(accounts), "labelled_fraud": int(y.sum()), "seeds": len(seeds),
            "load_average_1min": round(load_average, 1), "timings": timings,
            "unseeded_auc": {k: round(v, 4) for k, v in unseeded.items()},
            "seeded_auc_other_half": {k: round(v, 4) for k, v in seeded_auc.items()}}


def summarise(worlds: list[dict]) -> dict:
    margins = [w["unseeded_auc"]["risk"] - max(v for k, v in w["unseeded_auc"].items() if k != "risk")
               for w in worlds]
    seeded_gain = [w["seeded_auc_other_half"]["seeded_risk"] - w["seeded_auc_other_half"]["risk"] for w in worlds]
    pick = lambda values: {"worst": round(min(values), 4), "median": round(statistics.median(values), 4)}  # noqa: E731
    return {"risk_minus_best_baseline": pick(margins),
            "risk_auc": pick([w["unseeded_auc"]["risk"] for w in worlds]),
            "best_baseline_auc": pick([max(v for k, v in w["unseeded_auc"].items() if k != "risk") for w in worlds]),
            "seeded_risk_auc_other_half": pick([w["seeded_auc_other_half"]["seeded_risk"] for w in worlds]),
            "seeded_minus_unseeded_other_half": pick(seeded_gain)}


def append_results(outcome: dict) -> None:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    worlds, summary = outcome["worlds"], outcome["summary"]
    lines = [f"\n## Per-account risk on P2P-style worlds ({now})\n",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}; "
             "Neo4j 5.26 + GDS 2.13 managed server. Command: "
             f"`python bench/bench_risk.py {' '.join(sys.argv[1:])}`. Labels (chargebacks) held aside; baselines "
             "computed in the same run from the bundle's files. AUC against the labels:\n",
             "| world seed | accounts | labelled | risk | cards per account | shared-identifier degree | "
             "component size | risk − best baseline | seeded risk (other half) | unseeded risk (other half) | "
             "walk only (other half) | linkage PageRank only (other half) | load avg | detect s (risk s) |",
             "|---" * 14 + "|"]
    for w in worlds:
        u, s = w["unseeded_auc"], w["seeded_auc_other_half"]
        best = max(v for k, v in u.items() if k != "risk")
        lines.append(f"| {w['seed']} | {w['accounts']:,} | {w['labelled_fraud']:,} | {u['risk']} | "
                     f"{u['cards_per_account']} | {u['shared_identifier_degree']} | {u['component_size']} | "
                     f"{u['risk'] - best:+.4f} | {s['seeded_risk']} | {s['risk']} | {s['seed_proximity_only']} | {s['linkage_pagerank_only']} | "
                     f"{w['load_average_1min']} | {w['timings']['detect']} ({w['timings']['detect_steps']['risk']}) |")
    lines += ["", "Across worlds (worst / median): " + "; ".join(
        f"{name.replace('_', ' ')} {v['worst']} / {v['median']}" for name, v in summary.items()) + "."]
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="world seeds (default 1 2 3)")
    parser.add_argument("--users", type=int, default=None, help="users per world (default: the generator's)")
    parser.add_argument("--no-write", action="store_true", help="print the results only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lw-bench-risk-") as tmp:
        worlds = []
        for seed in args.seeds:
            worlds.append(one_world(seed, args.users, Path(tmp)))
            print(json.dumps(worlds[-1]), file=sys.stderr)
    outcome = {"worlds": worlds, "summary": summarise(worlds)}
    json.dump(outcome, sys.stdout, indent=2)
    print()
    if not args.no_write:
        append_results(outcome)
    return 0


if __name__ == "__main__":
    sys.exit(main())
