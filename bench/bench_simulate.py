"""Time and peak memory of `linkwatch simulate` at one scale (one scale per process, so RSS is its own).

    .venv/bin/python bench/bench_simulate.py medium --out /tmp/lw-bench-medium
    .venv/bin/python bench/bench_simulate.py seed --evasion high --out /tmp/lw-bench-seed

Prints wall time, CPU time, peak RSS and the row counts; docs/simulator.md records the results.
"""
from __future__ import annotations

import argparse
import resource
import time

from loaders.synthetic import SCALES, config_for, generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scale", choices=list(SCALES))
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--evasion", default="low")
    args = parser.parse_args()
    began, cpu = time.perf_counter(), time.process_time()
    summary = generate(config_for(args.scale, seed=args.seed, evasion=args.evasion), args.out, force=True)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.scale} (evasion {args.evasion}): wall {wall:.1f} s, cpu {cpu:.1f} s, peak RSS {peak_mb:,.0f} MB")
    print(", ".join(f"{name} {count:,}" for name, count in summary.counts.items()))


if __name__ == "__main__":
    main()
