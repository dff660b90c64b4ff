"""Detection benchmark: simulate → load → detect (GDS and local engines, side by side) → evaluate.

Appends one section to bench/RESULTS.md with the machine, date, load average, timings per step and quality
metrics.

    LINKWATCH_HOME=/tmp/lw-bench NEO4J_... .venv/bin/python bench/bench_detect.py --scale demo --evasion low

It wipes the configured database: run it against a managed Neo4j of its own (LINKWATCH_HOME, port).
``--bundle DIR`` reuses a bundle simulated earlier (same scale, seed and evasion); ``--loaded`` also skips the
load (the database already holds that bundle), so only detection runs.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from app.cli import main as linkwatch
from graph import db
from graph.detect import communities, evaluate, pipeline

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def _timed(step: str, timings: dict, fn, *args):
    start = time.perf_counter()
    value = fn(*args)
    timings[step] = round(time.perf_counter() - start, 1)
    return value


def run(args, workdir: Path) -> dict:
    bundle, timings, quality, load = args.bundle or workdir / "bundle", {}, {}, {}
    with contextlib.redirect_stdout(sys.stderr):  # their reports; stdout carries only the JSON result
        if not args.bundle:
            _timed("simulate", timings, linkwatch, ["simulate", "--scale", args.scale, "--seed", str(args.seed),
                                                    "--evasion", args.evasion, "--out", str(bundle), "--quiet"])
        if not args.loaded:
            db.wipe()
            db.apply_schema()
            _timed("load", timings, linkwatch, ["load", str(bundle), "--quiet"])
    truth = evaluate.read_truth(bundle / "truth.csv")
    for engine in args.engines:
        load[engine] = os.getloadavg()[0]
        result = _timed(f"detect_{engine}", timings, pipeline.run, engine)
        timings[f"detect_{engine}_steps"] = result.seconds
        accounts_csv, _ = pipeline.export(result, workdir / f"out-{engine}")
        quality[engine] = evaluate.evaluate(truth, evaluate.read_detected(accounts_csv))
    return {"timings": timings, "quality": quality, "load_average_1min_at_start": load}


def append_results(args, outcome: dict) -> None:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"\n## Detection: `{args.scale}`, evasion `{args.evasion}`, seed {args.seed} ({now})\n",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
             "Neo4j 5.26 + GDS 2.13 managed server. Command: "
             f"`python bench/bench_detect.py {' '.join(sys.argv[1:])}`; 1-minute load average when each "
             f"detection started: {outcome['load_average_1min_at_start']}\n",
             "| step | seconds |", "|---|---|"]
    lines += [f"| {step} | {value} |" for step, value in outcome["timings"].items()]
    engines = list(outcome["quality"])
    lines += ["", "| metric | " + " | ".join(engines) + " |", "|---" * (len(engines) + 1) + "|"]
    for metric in outcome["quality"][engines[0]]:
        lines.append(f"| {metric} | " + " | ".join(str(outcome["quality"][e][metric]) for e in engines) + " |")
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--evasion", default="low", choices=["none", "low", "high"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bundle", type=Path, help="a bundle simulated earlier with these arguments (skips simulate)")
    parser.add_argument("--loaded", action="store_true", help="the database already holds --bundle (skips load)")
    parser.add_argument("--engines", nargs="+", choices=communities.ENGINES, default=list(communities.ENGINES))
    parser.add_argument("--no-write", action="store_true", help="print the results only")
    args = parser.parse_args()
    if args.loaded and not args.bundle:
        parser.error("--loaded needs --bundle (the truth comes from it)")
    with tempfile.TemporaryDirectory(prefix="lw-bench-detect-") as tmp:
        outcome = run(args, Path(tmp))
    json.dump(outcome, sys.stdout, indent=2)
    print()
    if not args.no_write:
        append_results(args, outcome)
    return 0


if __name__ == "__main__":
    sys.exit(main())
