"""Seed benchmark, end to end: simulate → load → detect → report → evaluate, against a same-run DuckDB floor.

Per population size (``--accounts``, default the seed's 1,000,000): ``linkwatch simulate --scale seed`` into its
own world folder, a wiped database, then ``linkwatch load``, ``linkwatch detect --export``, ``linkwatch report``
and ``linkwatch evaluate`` against the world's truth.csv, each phase in a process of its own. Per phase: wall
seconds; CPU seconds and peak RSS of the phase process (wait4 rusage); CPU seconds and peak RSS of the Neo4j
server during the phase (/proc: CPU before and after, VmRSS sampled every 0.5 s). The baseline, measured on the
same files in the same run: one DuckDB GROUP BY account over the world's request Parquet parts (count, tokens,
first and last time, distinct IPs) in a fresh process; every phase is also given as a ratio to it. With two or
more sizes, wall time is fitted as a power law of accounts per phase and projected to 10M and 100M accounts.

    LINKWATCH_HOME=/tmp/lw-bench-seed LINKWATCH_NEO4J_PORT=7765 .venv/bin/linkwatch neo4j start
    LINKWATCH_HOME=/tmp/lw-bench-seed LINKWATCH_NEO4J_PORT=7765 .venv/bin/python bench/bench_seed.py \\
        [--accounts 20000 60000] [--out DIR] [--keep] [--json FILE] [--markdown]

It wipes the configured database before each size: run it against a managed Neo4j of its own.
"""
from __future__ import annotations

import argparse
import ast
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import numpy as np

from graph import db, runtime
from graph.config import connection
from loaders.synthetic.config import SCALES

from _common import commit, machine  # bench/ is the script's folder, first on sys.path

SEED_ACCOUNTS = SCALES["seed"].accounts
PIPELINE = ("simulate", "load", "detect", "report")  # the "simulate → report" target
PHASES = ("simulate", "baseline", "load", "detect", "report", "evaluate")  # the order they run in
DETECT_SECONDS, PIPELINE_SECONDS = 600, 1800  # targets at the seed's 1,000,000 accounts
PYTHON_PEAK_MB, LOAD_OVER_BASELINE, BENIGN_FPR = 6000, 10, 0.001  # targets at every size
PROJECT_TO = (10_000_000, 100_000_000)
SAMPLE_SECONDS = 0.5
BASELINE_SQL = """create table per_account as
select account_id, count(*) as requests, sum(input_tokens + output_tokens) as tokens,
       min(ts) as first_ts, max(ts) as last_ts, count(distinct ip) as distinct_ips
from read_parquet(?) group by account_id"""


def baseline(world: Path) -> None:
    """The floor: one per-account aggregation of the world's request parts (run in its own process)."""
    parts = sorted(str(p) for p in (world / "requests").glob("*.parquet"))
    if not parts:
        raise SystemExit(f"{world / 'requests'} holds no Parquet parts")
    con = duckdb.connect()
    con.execute(BASELINE_SQL, [parts])
    accounts, requests = con.execute("select count(*), sum(requests) from per_account").fetchone()
    print(json.dumps({"accounts": accounts, "requests": int(requests)}))


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (fields 14 and 15 of /proc/<pid>/stat); None once gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _status_mb(pid: int, key: str) -> float | None:
    """A memory line of /proc/<pid>/status (VmRSS, VmHWM) in MB; None once the process is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    line = next((line for line in lines if line.startswith(key + ":")), None)
    return int(line.split()[1]) * 1.024 / 1000 if line else None


class ServerWatch:
    """CPU seconds and peak resident memory of the Neo4j server while one phase runs (VmHWM would be lifetime).

    The managed server's pid is looked up at every sample: the bulk first load stops the server for
    ``neo4j-admin database import`` and starts a new one, and both processes count (each one's CPU from its
    first to its last sample, so at most one sample interval of a process that ended is missed)."""

    def __init__(self, pid: int | None):
        self.pid, self.cpu_s, self.peak_mb, self._done = pid, None, None, threading.Event()
        self._cpu: dict[int, list[float]] = {}  # pid -> [CPU seconds at first sample, at last sample]
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _tick(self) -> None:
        pid = runtime.status().pid or self.pid
        cpu, rss = _cpu_seconds(pid), _status_mb(pid, "VmRSS")
        if cpu is not None:
            self._cpu.setdefault(pid, [cpu, cpu])[1] = cpu
        if rss is not None:
            self.peak_mb = max(self.peak_mb or 0.0, rss)

    def _sample(self) -> None:
        while not self._done.wait(SAMPLE_SECONDS):
            self._tick()

    def __enter__(self) -> ServerWatch:
        if self.pid:
            self._tick()
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.pid:
            self._done.set()
            self._thread.join()
            self._tick()
            self.cpu_s = sum(last - first for first, last in self._cpu.values())


def run_phase(name: str, argv: list[str], logs: Path, server_pid: int | None) -> tuple[dict, str]:
    """Run one phase as a child process; its figures and its standard output."""
    out, err = logs / f"{name}.out", logs / f"{name}.err"
    load_average = os.getloadavg()[0]
    with out.open("wb") as stdout, err.open("wb") as stderr, ServerWatch(server_pid) as server:
        clock = time.perf_counter()
        child = subprocess.Popen(argv, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - clock
        child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        tail = (err.read_text(errors="replace") + out.read_text(errors="replace")).splitlines()[-15:]
        raise SystemExit(f"{name} exited with {child.returncode}: {' '.join(argv)}\n" + "\n".join(tail))
    figures = {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
               "peak_rss_mb": round(usage.ru_maxrss * 1.024 / 1000),  # ru_maxrss is in KiB on Linux
               "server_cpu_s": None if server.cpu_s is None else round(server.cpu_s, 2),
               "server_peak_rss_mb": None if server.peak_mb is None else round(server.peak_mb),
               "load_average_1min": round(load_average, 2)}
    return figures, out.read_text(errors="replace")


def run_size(args, accounts: int, root: Path, server_pid: int | None) -> dict:
    """The whole pipeline on one world of ``accounts`` accounts, in a wiped database."""
    folder = root / f"accounts-{accounts}"
    world, logs, detection = folder / "world", folder / "logs", folder / "detection"
    logs.mkdir(parents=True, exist_ok=True)
    linkwatch = [sys.executable, "-m", "app.cli"]
    commands = {
        "simulate": [*linkwatch, "simulate", "--scale", "seed", "--seed", str(args.seed), "--accounts", str(accounts),
                     "--out", str(world), "--force", "--quiet"],
        "baseline": [sys.executable, str(Path(__file__).resolve()), "--baseline-of", str(world)],
        "load": [*linkwatch, "load", str(world), "--quiet", "--rejects", str(folder / "rejects.csv")],
        "detect": [*linkwatch, "detect", "--export", str(detection)],
        "report": [*linkwatch, "report", "--out", str(folder / "report")],
        "evaluate": [*linkwatch, "evaluate", "--truth", str(world / "truth.csv"),
                     "--detected", str(detection / "accounts.csv")],
    }
    phases, output = {}, {}
    for name in PHASES:
        if name == "load":  # a fresh database for every size, as bench_robustness does
            clock = time.perf_counter()
            db.wipe()
            db.apply_schema()
            # the load may replace the store (bulk first load): a driver kept open would then ask the new
            # database for transactions it never had (its bookmarks), so this process starts afresh next time
            db.close()
            wipe_s = round(time.perf_counter() - clock, 2)
        print(f"[{accounts:,} accounts] {name} …", file=sys.stderr, flush=True)
        phases[name], output[name] = run_phase(name, commands[name], logs, server_pid)
        print(f"[{accounts:,} accounts] {name}: {phases[name]['wall_s']} s", file=sys.stderr, flush=True)
    steps = re.search(r"seconds (\{[^}]*\})", output["detect"])
    counts = json.loads((world / "scenario.json").read_text())["counts"]
    size = {"accounts": accounts, "requests": counts["requests"], "baseline_rows": json.loads(output["baseline"]),
            "wipe_s": wipe_s, "phases": phases, "detect_steps_s": ast.literal_eval(steps[1]) if steps else None,
            "quality": json.loads(output["evaluate"]), "folder": str(folder) if args.keep else None}
    size["ratios"] = ratios(phases)
    size["targets"] = targets(size)
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return size


def ratios(phases: dict) -> dict:
    """Each phase over the baseline: wall, and CPU (phase process + Neo4j server) over the baseline's CPU."""
    base = phases["baseline"]
    return {name: {"wall": round(p["wall_s"] / base["wall_s"], 2),
                   "cpu": round((p["cpu_s"] + (p["server_cpu_s"] or 0)) / base["cpu_s"], 2)}
            for name, p in phases.items() if name != "baseline"}


def targets(size: dict) -> list[dict]:
    """The issue's targets, met (True), not met (False) or not judged (None: timing targets are for 1M accounts)."""
    phases, quality, at_seed = size["phases"], size["quality"], size["accounts"] == SEED_ACCOUNTS
    detect_s = phases["detect"]["wall_s"]
    pipeline_s = sum(phases[name]["wall_s"] for name in PIPELINE)
    python_mb = max(p["peak_rss_mb"] for name, p in phases.items() if name != "baseline")
    load_ratio = size["ratios"]["load"]["wall"]
    rows = [
        ("detection ≤ 10 min (at 1M accounts)", f"{detect_s:,.0f} s",
         detect_s <= DETECT_SECONDS if at_seed else None),
        ("campaign recall 1.0", quality["campaign_recall"], quality["campaign_recall"] == 1.0),
        ("benign false-positive rate ≤ 0.1 %", f"{quality['benign_false_positive_rate'] * 100:.4f} %",
         quality["benign_false_positive_rate"] <= BENIGN_FPR),
        ("simulate → report ≤ 30 min (at 1M accounts)", f"{pipeline_s:,.0f} s",
         pipeline_s <= PIPELINE_SECONDS if at_seed else None),
        ("Python peak RSS ≤ 6 GB", f"{python_mb / 1000:.2f} GB", python_mb <= PYTHON_PEAK_MB),
        ("load ≤ 10× baseline (wall)", f"{load_ratio}×", load_ratio <= LOAD_OVER_BASELINE),
    ]
    return [{"target": t, "figure": f, "met": m} for t, f, m in rows]


def fit(sizes: list[dict]) -> dict:
    """Per phase (and simulate → report): least squares of log wall on log accounts; exponent and projections."""
    if len({s["accounts"] for s in sizes}) < 2:
        return {}
    measured = {s["accounts"] for s in sizes}
    project_to = ((SEED_ACCOUNTS,) if SEED_ACCOUNTS not in measured else ()) + PROJECT_TO
    x = np.log([s["accounts"] for s in sizes])
    curve = {}
    for name in (*PHASES, "simulate → report"):
        walls = [sum(s["phases"][p]["wall_s"] for p in PIPELINE) if name == "simulate → report"
                 else s["phases"][name]["wall_s"] for s in sizes]
        exponent, intercept = np.polyfit(x, np.log(walls), 1)
        curve[name] = {"exponent": round(float(exponent), 3),
                       "projected_s": {n: round(math.exp(intercept) * n ** exponent) for n in project_to}}
    return curve


def server_info() -> dict:
    """Versions and memory of the Neo4j server the run measures (pid, heap and page cache when managed)."""
    info = {"gds": db.gds_version(), "managed": connection().managed}
    if info["managed"]:
        memory = runtime.running_memory()
        info |= {"pid": runtime.status().pid, "neo4j": runtime.NEO4J_VERSION,
                 "heap": memory.get("heap", "?"), "pagecache": memory.get("pagecache", "?")}
    return info


def _duration(seconds: float) -> str:
    """Seconds, with minutes or hours alongside when they read better."""
    if seconds >= 7200:
        return f"{seconds:,.0f} ({seconds / 3600:,.1f} h)"
    return f"{seconds:,.0f} ({seconds / 60:,.1f} min)" if seconds >= 120 else f"{seconds:,.0f}"


def render(outcome: dict, heading: bool) -> str:
    """The result as markdown; ``heading`` adds the title and machine paragraph of a RESULTS.md section."""
    lines = []
    if heading:
        m, s, load = outcome["machine"], outcome["server"], outcome["load_average"]
        sizes = ", ".join(f"{size['accounts']:,}" for size in outcome["sizes"])
        lines += [f"## Seed end to end: {sizes} accounts ({outcome['date']})", "",
                  f"Machine: {m['cores']} cores ({m.get('cpu', m['arch'])}), {m.get('ram_gb')} GB RAM, shared; "
                  f"Python {m['python']}; Neo4j {s.get('neo4j', '(external)')} + GDS {s['gds']}"
                  + (f", heap {s['heap']}, page cache {s['pagecache']}" if s["managed"] else "") + ". "
                  f"1-minute load average {load['start']} at start, {load['end']} at end. Code: commit "
                  f"`{outcome['commit']}`. Command: `{outcome['command']}`.", ""]
    for size in outcome["sizes"]:
        base_rows = size["baseline_rows"]
        lines += [f"### {size['accounts']:,} accounts, {size['requests']:,} requests", "",
                  f"Baseline: DuckDB GROUP BY account over the request parts ({base_rows['requests']:,} rows → "
                  f"{base_rows['accounts']:,} accounts). Database wiped before load in {size['wipe_s']} s "
                  "(not counted).",
                  "", "| phase | wall s | ÷ baseline, wall | ÷ baseline, CPU | CPU s, phase | CPU s, Neo4j | "
                  "peak RSS MB, phase | peak RSS MB, Neo4j | load avg at start |", "|---" * 9 + "|"]
        for name, p in size["phases"].items():
            ratio = size["ratios"].get(name, {"wall": 1.0, "cpu": 1.0})
            lines.append(f"| {name} | {p['wall_s']} | {ratio['wall']} | {ratio['cpu']} | {p['cpu_s']} | "
                         f"{p['server_cpu_s']} | {p['peak_rss_mb']:,} | {p['server_peak_rss_mb']} | "
                         f"{p['load_average_1min']} |")
        q = size["quality"]
        steps = ", ".join(f"{step} {s}" for step, s in (size["detect_steps_s"] or {}).items())
        lines += ["", f"Detect steps (s): {steps or 'not printed'}. Quality: campaign recall {q['campaign_recall']} "
                  f"({q['campaigns_found']} of {q['campaigns']}), precision {q['precision']}, recall {q['recall']}, "
                  f"benign false-positive rate {q['benign_false_positive_rate'] * 100:.4f} %, "
                  f"{q['flagged_accounts']:,} of {q['accounts']:,} accounts flagged.",
                  "", "| target | figure | met |", "|---|---|---|"]
        verdict = {True: "met", False: "**not met**", None: "not judged (a 1M-account target)"}
        lines += [f"| {t['target']} | {t['figure']} | {verdict[t['met']]} |" for t in size["targets"]]
        lines.append("")
    if outcome["curve"]:
        project_to = list(next(iter(outcome["curve"].values()))["projected_s"])
        lines += ["### Growth: wall ∝ accounts^k (least squares on log–log); projections are an "
                  "**extrapolation**", "",
                  "| phase | k | " + " | ".join(f"extrapolated s at {n:,} accounts" for n in project_to) + " |",
                  "|---" * (2 + len(project_to)) + "|"]
        for name, c in outcome["curve"].items():
            lines.append(f"| {name} | {c['exponent']} | "
                         + " | ".join(_duration(v) for v in c["projected_s"].values()) + " |")
        lines.append("")
    return "\n".join(lines)


def curve_of(files: list[Path]) -> int:
    """Print the growth fit over the sizes measured by earlier runs (each size once: the last file wins), with
    the commit, date and load average each size was measured at, since they may differ."""
    sizes: dict[int, tuple[dict, dict]] = {}
    for path in files:
        outcome = json.loads(path.read_text())
        for size in outcome["sizes"]:
            sizes[size["accounts"]] = (size, outcome)
    ordered = [sizes[n] for n in sorted(sizes)]
    lines = ["| accounts | measured | commit | load avg at start | " + " | ".join(PHASES) + " |",
             "|---" * (4 + len(PHASES)) + "|"]
    for size, outcome in ordered:
        lines.append(f"| {size['accounts']:,} | {outcome['date']} | `{outcome['commit']}` | "
                     f"{outcome['load_average']['start']} | "
                     + " | ".join(f"{size['phases'][p]['wall_s']:,}" for p in PHASES) + " |")
    print("\n".join(lines) + "\n")
    print(render({"sizes": [], "curve": fit([size for size, _ in ordered])}, heading=False))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[SEED_ACCOUNTS], metavar="N",
                        help=f"population sizes, one pipeline each (default: the seed's {SEED_ACCOUNTS:,})")
    parser.add_argument("--seed", type=int, default=1, help="simulator seed (default 1)")
    parser.add_argument("--out", type=Path, help="folder for the worlds (default: a new folder under the temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep each world, its export, report and phase logs")
    parser.add_argument("--json", type=Path, help="write the results as JSON to this file")
    parser.add_argument("--markdown", action="store_true", help="print a bench/RESULTS.md-ready section")
    parser.add_argument("--curve-of", type=Path, nargs="+", metavar="JSON",
                        help="run nothing: fit the growth over the sizes of earlier runs' --json files")
    parser.add_argument("--baseline-of", type=Path, help=argparse.SUPPRESS)  # the baseline phase's own process
    args = parser.parse_args()
    if args.baseline_of:
        baseline(args.baseline_of)
        return 0
    if args.curve_of:
        return curve_of(args.curve_of)
    if min(args.accounts) < 200:
        parser.error("--accounts must be at least 200")
    root = args.out or Path(tempfile.mkdtemp(prefix="lw-bench-seed-"))
    root.mkdir(parents=True, exist_ok=True)
    server = server_info()
    outcome = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "commit": commit(),
               "command": "python bench/bench_seed.py " + " ".join(sys.argv[1:]), "machine": machine(),
               "server": server, "load_average": {"start": round(os.getloadavg()[0], 2)}, "sizes": []}
    try:
        for accounts in args.accounts:
            outcome["sizes"].append(run_size(args, accounts, root, server.get("pid")))
            if args.json:  # the sizes done so far survive a failure later
                args.json.write_text(json.dumps(outcome, indent=2, default=str) + "\n")
    finally:
        if not args.keep and not args.out:
            shutil.rmtree(root, ignore_errors=True)
    outcome["load_average"]["end"] = round(os.getloadavg()[0], 2)
    lifetime = _status_mb(runtime.status().pid or 0, "VmHWM") if server.get("pid") else None
    outcome["server"]["peak_rss_lifetime_mb"] = round(lifetime) if lifetime else None  # of the server running now
    outcome["curve"] = fit(outcome["sizes"])
    if args.json:
        args.json.write_text(json.dumps(outcome, indent=2, default=str) + "\n")
    print(render(outcome, heading=args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
