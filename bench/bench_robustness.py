"""Robustness benchmark: detection on N randomised worlds with every operator archetype, worst case and median.

For each world (seed = --first-seed + i): ``simulate --archetypes all`` → wipe and load into the configured
Neo4j → detect (GDS) → evaluate. Reports per world, and the WORST case and median across worlds, of:
campaign recall, operator recall, account precision, benign false-positive rate, average precision (AP) of the
cluster ranking, and whether every planted campaign scores above every honest cluster of ≥ 20 accounts.
A same-run baseline ranks the *same* clusters by one naive rule — the share of members whose payment card is
used by another account (flagged at ≥ 0.5) — so the scoring's gain is a ratio measured on the same partition.

    LINKWATCH_HOME=/tmp/lw-bench LINKWATCH_NEO4J_PORT=... .venv/bin/python bench/bench_robustness.py \\
        --worlds 10 --scale medium [--accounts 20000] [--append-results]

It wipes the configured database: run it against a managed Neo4j of its own. JSON goes to stdout (and
--json FILE); --append-results adds the markdown summary to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from app.cli import main as linkwatch
from graph import db
from graph.detect import evaluate, pipeline

from _common import commit, publish  # bench/ is the script's folder, first on sys.path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
BASELINE_FLAG_SHARE = 0.5  # the naive rule flags a cluster when half its members pay with a shared card
# metric -> True when higher is better (the worst case is the minimum), False when lower is better
METRICS = {"campaign_recall": True, "operator_recall": True, "precision": True, "recall": True,
           "benign_false_positive_rate": False, "average_precision": True}


def shared_card_accounts(bundle: Path) -> set[str]:
    """Accounts whose payment card is linked to at least one other account (read from the bundle's links)."""
    links = next((p for p in (bundle / "links.parquet", bundle / "links.csv") if p.exists()), None)
    if links is None:
        return set()
    reader = "read_parquet" if links.suffix == ".parquet" else "read_csv"
    rows = duckdb.connect().execute(
        f"select distinct account_id from {reader}(?) where kind = 'payment' and value in "
        f"(select value from {reader}(?) where kind = 'payment' group by value "
        "having count(distinct account_id) > 1)", [str(links), str(links)]).fetchall()
    return {r[0] for r in rows}


def archetypes_of(truth_csv: Path) -> dict[str, str]:
    """campaign id -> archetype, from truth.csv."""
    with truth_csv.open(newline="", encoding="utf-8") as handle:
        return {r["campaign_id"]: r.get("archetype") or "hydra" for r in csv.DictReader(handle) if r["campaign_id"]}


def score_world(truth: dict, detected: dict, clusters: list[tuple[str, float, list[str]]], groups: dict,
                kinds: dict[str, str]) -> dict:
    """The benchmark's metrics of one detection (or baseline) on one world."""
    quality = evaluate.evaluate(truth, detected, operator_groups=groups)
    ranking = evaluate.rank_clusters(truth, clusters)
    found = set(evaluate.found_campaigns(truth, detected))
    missed = {c: {"archetype": kinds.get(c, "?"), "best_rank": ranking["campaign_best_rank"].get(c)}
              for c in sorted(kinds) if c not in found}
    by_kind: dict[str, list[int]] = {}
    for campaign, kind in kinds.items():
        by_kind.setdefault(kind, [0, 0])
        by_kind[kind][0] += campaign in found
        by_kind[kind][1] += 1
    return {**{m: quality[m] for m in METRICS if m in quality}, "average_precision": ranking["average_precision"],
            "campaigns_above_honest": ranking["campaigns_above_honest"], "separation": ranking["separation"],
            "honest_clusters_20_plus": ranking["honest_clusters_20_plus"],
            "campaigns": quality["campaigns"], "flagged_accounts": quality["flagged_accounts"],
            "found_by_archetype": {k: f"{v[0]}/{v[1]}" for k, v in sorted(by_kind.items())}, "missed": missed,
            "campaign_best_rank": ranking["campaign_best_rank"]}


def baseline(truth: dict, clusters: list[tuple[str, float, list[str]]], shared: set[str]) -> tuple[dict, list]:
    """The naive rule on the same clusters: score = share of members on a shared card."""
    detected = {a: (None, False) for a in truth}
    ranked = []
    for cluster, _, members in clusters:
        share = sum(a in shared for a in members) / len(members) if members else 0.0
        ranked.append((cluster, round(share, 4), members))
        for a in members:
            detected[a] = (cluster, share >= BASELINE_FLAG_SHARE)
    return detected, ranked


def run_world(args, index: int, workdir: Path) -> dict:
    seed = args.first_seed + index
    bundle, out = workdir / f"world-{seed}", workdir / f"out-{seed}"
    timings: dict[str, float] = {}
    command = ["simulate", "--scale", args.scale, "--seed", str(seed), "--archetypes", args.archetypes,
               "--out", str(bundle), "--quiet", "--force"] + (["--accounts", str(args.accounts)] if args.accounts else [])
    with contextlib.redirect_stdout(sys.stderr):
        clock = time.perf_counter()
        if linkwatch(command) != 0:
            raise SystemExit(f"simulate failed for seed {seed}")
        timings["simulate"] = round(time.perf_counter() - clock, 1)
        clock = time.perf_counter()
        db.wipe()
        db.apply_schema()
        if linkwatch(["load", str(bundle), "--quiet"]) != 0:
            raise SystemExit(f"load failed for seed {seed}")
        timings["load"] = round(time.perf_counter() - clock, 1)
    load_average = os.getloadavg()[0]
    clock = time.perf_counter()
    result = pipeline.run("gds")
    timings["detect"] = round(time.perf_counter() - clock, 1)
    accounts_csv, campaigns_json = pipeline.export(result, out)
    truth = evaluate.read_truth(bundle / "truth.csv")
    kinds = archetypes_of(bundle / "truth.csv")
    clusters = [(s.cluster, s.score, s.members) for s in result.clusters]  # every scored cluster, not only tracked
    # the export names tracked clusters by campaign id; the ranking above uses cluster ids, the flag rule the export
    detected = evaluate.read_detected(accounts_csv)
    groups = evaluate.read_operator_groups(campaigns_json)
    detector = score_world(truth, detected, clusters, groups, kinds)
    naive_detected, naive_clusters = baseline(truth, clusters, shared_card_accounts(bundle))
    naive = score_world(truth, naive_detected, naive_clusters, {}, kinds)
    scenario = json.loads((bundle / "scenario.json").read_text())
    world = {"seed": seed, "accounts": scenario["counts"]["accounts"], "requests": scenario["counts"]["requests"],
             "operators": [f"{c['campaign_id']}:{c['archetype']}:{c['accounts']}" for c in scenario["campaigns"]],
             "timings": timings, "load_average_1min_at_detect": round(load_average, 1),
             "detector": detector, "baseline": naive}
    if not args.keep:
        shutil.rmtree(bundle, ignore_errors=True)
    print(f"world {index + 1} (seed {seed}): campaign recall {detector['campaign_recall']}, "
          f"AP {detector['average_precision']} (baseline {naive['average_precision']}), missed {detector['missed']}",
          file=sys.stderr)
    return world


def summarise(worlds: list[dict]) -> dict:
    """Worst case and median of every metric across worlds, detector and baseline, and same-run AP ratios."""
    summary: dict = {}
    for side in ("detector", "baseline"):
        summary[side] = {}
        for metric, higher in METRICS.items():
            values = [w[side][metric] for w in worlds if w[side].get(metric) is not None]
            if values:
                summary[side][metric] = {"worst": min(values) if higher else max(values),
                                         "median": round(statistics.median(values), 6)}
        summary[side]["worlds_campaigns_above_honest"] = (
            f"{sum(bool(w[side]['campaigns_above_honest']) for w in worlds)}/{len(worlds)}")
    ratios = [w["detector"]["average_precision"] / w["baseline"]["average_precision"] for w in worlds
              if w["detector"]["average_precision"] is not None and w["baseline"]["average_precision"]]
    if ratios:
        summary["ap_ratio_detector_over_baseline"] = {"worst": round(min(ratios), 3),
                                                      "median": round(statistics.median(ratios), 3)}
    return summary


def markdown(args, outcome: dict) -> str:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    s = outcome["summary"]
    lines = [f"\n## Robustness: {len(outcome['worlds'])} randomised worlds, `{args.scale}`"
             f"{f', {args.accounts:,} accounts' if args.accounts else ''}, archetypes `{args.archetypes}` ({now})\n",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}; "
             f"Neo4j 5.26 + GDS 2.13 managed server. Detection code: commit `{outcome['commit']}`. Command: "
             f"`{_command(outcome)}`. Baseline (same run, same clusters): "
             f"score = share of members whose payment card another account also uses, flagged at ≥ "
             f"{BASELINE_FLAG_SHARE}.\n",
             "| seed | accounts | operators (id:archetype:size) | campaign recall | operator recall | precision | "
             "benign FPR | AP | AP baseline | campaigns above honest ≥ 20 | separation | missed (archetype, best rank) "
             "| load avg | simulate / load / detect s |",
             "|---" * 14 + "|"]
    for w in outcome["worlds"]:
        d, b = w["detector"], w["baseline"]
        missed = ", ".join(f"{c} ({m['archetype']}, {m['best_rank']})" for c, m in d["missed"].items()) or "none"
        t = w["timings"]
        lines.append(f"| {w['seed']} | {w['accounts']:,} | {' '.join(w['operators'])} | {d['campaign_recall']} | "
                     f"{d['operator_recall']} | {d['precision']} | {d['benign_false_positive_rate']} | "
                     f"{d['average_precision']} | {b['average_precision']} | {d['campaigns_above_honest']} | "
                     f"{d['separation']} | {missed} | {w['load_average_1min_at_detect']} | "
                     f"{t['simulate']} / {t['load']} / {t['detect']} |")
    lines += ["", "| metric | detector worst | detector median | baseline worst | baseline median |", "|---|---|---|---|---|"]
    for metric in METRICS:
        if metric in s["detector"]:
            det, base = s["detector"][metric], s["baseline"].get(metric, {})
            lines.append(f"| {metric} | {det['worst']} | {det['median']} | {base.get('worst')} | {base.get('median')} |")
    lines.append(f"| worlds where every campaign scores above every honest cluster ≥ 20 | "
                 f"{s['detector']['worlds_campaigns_above_honest']} | | {s['baseline']['worlds_campaigns_above_honest']} | |")
    if "ap_ratio_detector_over_baseline" in s:
        r = s["ap_ratio_detector_over_baseline"]
        lines.append(f"| AP detector ÷ baseline (same run) | {r['worst']} | {r['median']} | | |")
    return "\n".join(lines) + "\n"


def _command(outcome: dict) -> str:
    """The command line of the run, rebuilt from its recorded arguments."""
    a = outcome["arguments"]
    parts = ["python bench/bench_robustness.py", f"--worlds {a['worlds']}", f"--scale {a['scale']}"]
    parts += [f"--accounts {a['accounts']}"] if a.get("accounts") else []
    parts += [f"--first-seed {a['first_seed']}", f"--archetypes {a['archetypes']}"]
    note = f" ({len(outcome['worlds'])} of {a['worlds']} worlds finished)" if len(outcome["worlds"]) < a["worlds"] else ""
    return " ".join(parts) + note


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=10, help="how many randomised worlds (default 10)")
    parser.add_argument("--scale", default="medium", choices=["demo", "medium", "large"])
    parser.add_argument("--accounts", type=int, default=None, help="population override (quicker runs)")
    parser.add_argument("--first-seed", type=int, default=101, help="seed of the first world (then +1 each)")
    parser.add_argument("--archetypes", default="all", help="simulate --archetypes value (default: all)")
    parser.add_argument("--workdir", type=Path, help="keep bundles and exports here (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep each world's bundle")
    parser.add_argument("--json", type=Path, help="also write the JSON result to this file")
    parser.add_argument("--append-results", action="store_true", help="append the summary to bench/RESULTS.md")
    parser.add_argument("--from-json", type=Path, metavar="FILE",
                        help="summarise the worlds of an earlier (possibly interrupted) run's --json file instead of "
                             "running; its arguments and commit are used")
    args = parser.parse_args()
    if args.worlds < 1:
        parser.error("--worlds must be at least 1")
    if args.from_json:
        outcome = json.loads(args.from_json.read_text())
        for name in ("scale", "accounts", "archetypes"):
            setattr(args, name, outcome["arguments"][name])
        return _report(args, outcome)
    outcome = {"commit": commit(), "arguments": vars(args) | {"workdir": str(args.workdir or "")}, "worlds": []}
    with contextlib.ExitStack() as stack:
        workdir = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lw-bench-robust-")))
        workdir.mkdir(parents=True, exist_ok=True)
        for index in range(args.worlds):
            outcome["worlds"].append(run_world(args, index, workdir))
            if args.json:  # partial results survive an interrupted run
                args.json.write_text(json.dumps(outcome, indent=2, default=str) + "\n")
    return _report(args, outcome)


def _report(args, outcome: dict) -> int:
    outcome["summary"] = summarise(outcome["worlds"])
    outcome["markdown"] = markdown(args, outcome)
    publish(outcome, args.json, args.append_results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
