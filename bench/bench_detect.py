"""Detection benchmark: simulate → load → detect (GDS and local engines, side by side) → evaluate.

Appends one section to bench/RESULTS.md with the machine, date, timings per step and quality metrics.

    LINKWATCH_HOME=/tmp/lw-bench NEO4J_... .venv/bin/python bench/bench_detect.py --scale demo --evasion low

It wipes the configured database: run it against a managed Neo4j of its own (LINKWATCH_HOME, port).
"""
from __future__ import annotations

import argparse
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
from graph.detect import evaluate, pipeline

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def _timed(step: str, timings: dict, fn, *args):
    start = time.perf_counter()
    value = fn(*args)
    timings[step] = round(time.perf_counter() - start, 1)
    return value


def run(scale: str, evasion: str, seed: int, workdir: Path) -> dict:
    bundle, timings, quality = workdir / "bundle", {}, {}
    _timed("simulate", timings, linkwatch, ["simulate", "--scale", scale, "--seed", str(seed), "--evasion", evasion,
                                            "--out", str(bundle)])
    db.wipe()
    db.apply_schema()
    _timed("load", timings, linkwatch, ["load", str(bundle)])
    truth = evaluate.read_truth(bundle / "truth.csv")
    for engine in ("gds", "local"):
        result = _timed(f"detect_{engine}", timings, pipeline.run, engine)
        timings[f"detect_{engine}_steps"] = result.seconds
        accounts_csv, _ = pipeline.export(result, workdir / f"out-{engine}")
        quality[engine] = evaluate.evaluate(truth, evaluate.read_detected(accounts_csv))
    return {"timings": timings, "quality": quality}


def append_results(args, outcome: dict) -> None:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"\n## Detection: `{args.scale}`, evasion `{args.evasion}`, seed {args.seed} ({now})\n",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
             "Neo4j 5.26 + GDS 2.13 managed server. Command: "
             f"`python bench/bench_detect.py --scale {args.scale} --evasion {args.evasion} --seed {args.seed}`\n",
             "| step | seconds |", "|---|---|"]
    lines += [f"| {step} | {value} |" for step, value in outcome["timings"].items()]
    lines += ["", "| metric | gds | local |", "|---|---|---|"]
    for metric in outcome["quality"]["gds"]:
        lines.append(f"| {metric} | {outcome['quality']['gds'][metric]} | {outcome['quality']['local'][metric]} |")
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--evasion", default="low", choices=["none", "low", "high"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="print the results only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lw-bench-detect-") as tmp:
        outcome = run(args.scale, args.evasion, args.seed, Path(tmp))
    json.dump(outcome, sys.stdout, indent=2)
    print()
    if not args.no_write:
        append_results(args, outcome)
    return 0


if __name__ == "__main__":
    sys.exit(main())
