"""The model fitted on labels (graph/detect/learned.py) on randomised simulated worlds: its own out-of-fold
calibration figures, and how well its probability separates planted operators from honest clusters compared
with the calibrated score on the same clusters (same-run baseline).

For each world (seed = --first-seed + i): ``simulate --archetypes all`` (its `labels` table: 2 % of the accounts
of 70 % of the campaigns labelled fraud, some honest accounts and the largest company benign) → wipe and load
into the configured Neo4j → detect (GDS). A scored cluster is planted when more than half of its members are one
planted campaign's, honest when more than half are benign.

    LINKWATCH_HOME=/tmp/lw-bench LINKWATCH_NEO4J_PORT=... .venv/bin/python bench/bench_learned.py \\
        --worlds 3 --scale medium --accounts 20000 [--append-results]

It wipes the configured database: run it against a managed Neo4j of its own.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from _common import commit, publish  # bench/ is the script's folder, first on sys.path

from app.cli import main as linkwatch
from graph import db
from graph.detect import evaluate, learned, pipeline
from graph.detect.params import ScoringParams


def run_world(args, seed: int, workdir: Path) -> dict:
    bundle = workdir / f"world-{seed}"
    command = ["simulate", "--scale", args.scale, "--seed", str(seed), "--archetypes", "all", "--out", str(bundle),
               "--quiet", "--force"] + (["--accounts", str(args.accounts)] if args.accounts else [])
    with contextlib.redirect_stdout(sys.stderr):
        if linkwatch(command) != 0:
            raise SystemExit(f"simulate failed for seed {seed}")
        db.wipe()
        db.apply_schema()
        if linkwatch(["load", str(bundle), "--quiet"]) != 0:
            raise SystemExit(f"load failed for seed {seed}")
    load_average = os.getloadavg()[0]
    clock = time.perf_counter()
    result = pipeline.run("gds")
    seconds = round(time.perf_counter() - clock, 1)
    truth = evaluate.read_truth(bundle / "truth.csv")
    model = result.learned
    rows = []
    for s in result.clusters:
        campaign, count = Counter(truth.get(a) for a in s.members).most_common(1)[0]
        if count * 2 > len(s.members):
            rows.append((campaign is not None, s.cluster in model.labelled if model else False, s))
    planted = [p for p, _, _ in rows]
    unlabelled = [(p, s) for p, lab, s in rows if not lab]
    world = {"seed": seed, "accounts": len(truth), "clusters": len(result.clusters),
             "planted_clusters": sum(planted), "detect_seconds": seconds, "load_average_1min": round(load_average, 1),
             "model": model.summary() if model else None}
    if model and model.fitted:
        world["auc_vs_truth"] = {
            "learned": round(evaluate.auc([s.learned_probability for _, _, s in rows], planted), 4),
            "score": round(evaluate.auc([s.score for _, _, s in rows], planted), 4),
            # the clusters no label touches: can the model find operators nobody labelled?
            "learned_unlabelled": round(evaluate.auc([s.learned_probability for _, s in unlabelled],
                                                     [p for p, _ in unlabelled]), 4),
            "score_unlabelled": round(evaluate.auc([s.score for _, s in unlabelled], [p for p, _ in unlabelled]), 4)}
        world["unlabelled_planted_at_or_above_review"] = (
            f"{sum(1 for p, s in unlabelled if p and s.learned_probability >= learned.REVIEW_PROBABILITY)}/"
            f"{sum(1 for p, _ in unlabelled if p)}")
        world["honest_at_or_above_review"] = sum(1 for p, _, s in rows
                                                 if not p and s.learned_probability >= learned.REVIEW_PROBABILITY)
        world["labels_suggest_review"] = sum(learned.suggests_review(s, ScoringParams())
                                             for _, _, s in rows)
    if not args.keep:
        shutil.rmtree(bundle, ignore_errors=True)
    print(f"world seed {seed}: {json.dumps({k: world.get(k) for k in ('auc_vs_truth', 'model')})}", file=sys.stderr)
    return world


def markdown(args, outcome: dict) -> str:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"\n## Model fitted on labels: {len(outcome['worlds'])} randomised worlds, `{args.scale}`"
             f"{f', {args.accounts:,} accounts' if args.accounts else ''}, archetypes `all` ({now})\n",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}; "
             f"Neo4j 5.26 + GDS 2.13 managed server. Code: commit `{outcome['commit']}`. Command: "
             f"`python bench/bench_learned.py --worlds {args.worlds} --scale {args.scale}"
             f"{f' --accounts {args.accounts}' if args.accounts else ''} --first-seed {args.first_seed}`. "
             "Labels: the simulator's own `labels` table. Baseline (same run, same clusters): the calibrated score. "
             "AUC vs truth: clusters more than half one planted campaign against clusters more than half benign.\n",
             "| seed | clusters (planted) | labelled positive / benign-labelled clusters | folds | c (range) | "
             "AUC labelled vs rest | Brier | AUC vs truth: learned / score | ... on unlabelled clusters: learned / score "
             "| unlabelled planted ≥ 0.5 | honest ≥ 0.5 | detect s (load avg) |",
             "|---" * 12 + "|"]
    for w in outcome["worlds"]:
        m = w["model"] or {}
        if not m.get("fitted"):
            lines.append(f"| {w['seed']} | {w['clusters']:,} ({w['planted_clusters']}) | "
                         f"{m.get('reason', 'no labels')} | | | | | | | | | {w['detect_seconds']} ({w['load_average_1min']}) |")
            continue
        t = w["auc_vs_truth"]
        lines.append(f"| {w['seed']} | {w['clusters']:,} ({w['planted_clusters']}) | {m['labelled_positive_clusters']} / "
                     f"{m['benign_labelled_clusters']} | {m['folds']} | {m['c']} ({m['c_range'][0]}–{m['c_range'][1]}) | "
                     f"{m['auc']} | {m['brier']} | {t['learned']} / {t['score']} | {t['learned_unlabelled']} / "
                     f"{t['score_unlabelled']} | {w['unlabelled_planted_at_or_above_review']} | "
                     f"{w['honest_at_or_above_review']} | {w['detect_seconds']} ({w['load_average_1min']}) |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=3)
    parser.add_argument("--scale", default="medium", choices=["demo", "medium", "large"])
    parser.add_argument("--accounts", type=int, default=None, help="population override (quicker runs)")
    parser.add_argument("--first-seed", type=int, default=401, help="seed of the first world (then +1 each)")
    parser.add_argument("--keep", action="store_true", help="keep each world's bundle")
    parser.add_argument("--json", type=Path, help="also write the JSON result to this file")
    parser.add_argument("--append-results", action="store_true", help="append the summary to bench/RESULTS.md")
    args = parser.parse_args()
    outcome = {"commit": commit(), "arguments": vars(args), "worlds": []}
    with tempfile.TemporaryDirectory(prefix="lw-bench-learned-") as workdir:
        for index in range(args.worlds):
            outcome["worlds"].append(run_world(args, args.first_seed + index, Path(workdir)))
            if args.json:
                args.json.write_text(json.dumps(outcome, indent=2, default=str) + "\n")
    outcome["markdown"] = markdown(args, outcome)
    publish(outcome, args.json, args.append_results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
