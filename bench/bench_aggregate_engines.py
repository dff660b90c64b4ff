"""Benchmark: `linkwatch aggregate` with the DuckDB engine and the Spark engine on the same bundle, same run.

Each engine runs as its own `linkwatch aggregate` process; the whole process tree (the command, Spark's JVM and
its Python workers) is sampled every 0.2 s from /proc: wall time, CPU seconds (user + system of every process
in the tree) and peak RSS (the largest sum over the tree). The two outputs are then compared table by table.

    .venv/bin/python bench/bench_aggregate_engines.py BUNDLE [--master local[2]]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _sample(pid: int) -> tuple[float, int] | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS, int(fields[21]) * PAGE  # utime + stime, rss


def measure(command: list[str]) -> dict:
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    cpu: dict[int, float] = {}
    peak = 0
    while process.poll() is None:
        rss = 0
        for pid in _tree(process.pid):
            sample = _sample(pid)
            if sample:
                cpu[pid] = max(cpu.get(pid, 0.0), sample[0])
                rss += sample[1]
        peak = max(peak, rss)
        time.sleep(0.2)
    output = process.stdout.read()
    if process.returncode not in (0, 4):
        sys.exit(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return {"wall": time.monotonic() - started, "cpu": sum(cpu.values()), "rss": peak, "output": output}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    linkwatch = str(Path(sys.executable).parent / "linkwatch")
    with tempfile.TemporaryDirectory(prefix="bench-engines-") as tmp:
        results = {}
        for engine in ("duckdb", "spark"):
            out = Path(tmp) / engine
            extra = ["--master", args.master] if engine == "spark" else []
            results[engine] = measure([linkwatch, "aggregate", str(args.bundle), "--out", str(out), "--quiet",
                                       "--engine", engine, "--rejects", str(Path(tmp) / f"{engine}.csv"), *extra])
            print(f"{engine}: wall {results[engine]['wall']:.1f} s, CPU {results[engine]['cpu']:.1f} s, "
                  f"peak RSS {results[engine]['rss'] / 2**20:,.0f} MiB", flush=True)
        conn = duckdb.connect()
        same = True
        for parquet in sorted((Path(tmp) / "duckdb").glob("*.parquet")):
            x, y = f"read_parquet('{parquet}')", f"read_parquet('{Path(tmp) / 'spark' / parquet.name}')"
            diff = conn.execute(f"SELECT (SELECT count(*) FROM (SELECT * FROM {x} EXCEPT ALL SELECT * FROM {y})) + "
                                f"(SELECT count(*) FROM (SELECT * FROM {y} EXCEPT ALL SELECT * FROM {x}))").fetchall()[0][0]
            rows = conn.execute(f"SELECT count(*) FROM {x}").fetchall()[0][0]
            print(f"  {parquet.stem}: {rows:,} rows, {diff} differing")
            same = same and diff == 0
        d, s = results["duckdb"], results["spark"]
        print(f"ratio Spark/DuckDB: wall {s['wall'] / d['wall']:.2f}, CPU {s['cpu'] / d['cpu']:.2f}, "
              f"peak RSS {s['rss'] / d['rss']:.2f}; outputs identical: {same}")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
        print(next(line for line in d["output"].splitlines() if line.startswith("requests:")))


if __name__ == "__main__":
    main()
