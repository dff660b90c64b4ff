"""Helpers shared by the benchmarks: which code was measured, on what machine, and where results go."""
from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"


def publish(outcome: dict, json_path: Path | None, append_results: bool) -> None:
    """Print the outcome as JSON, write it to ``json_path`` if given, and append its ``markdown`` section to
    bench/RESULTS.md when asked."""
    text = json.dumps(outcome, indent=2, default=str)
    print(text)
    if json_path:
        json_path.write_text(text + "\n")
    if append_results:
        with RESULTS.open("a", encoding="utf-8") as handle:
            handle.write(outcome["markdown"])


def commit() -> str:
    """The checkout's short commit, marked when graph/, loaders/ or cypher/ have uncommitted changes."""
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "graph", "loaders", "cypher"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + (" + uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> dict:
    """Cores, memory, CPU model and Python version of this machine."""
    info = {"cores": os.cpu_count(), "python": platform.python_version(), "arch": platform.machine()}
    for path, key, name in (("/proc/meminfo", "MemTotal", "ram_gb"), ("/proc/cpuinfo", "model name", "cpu")):
        try:
            line = next(line for line in Path(path).read_text().splitlines() if line.startswith(key))
        except (OSError, StopIteration):
            continue
        value = line.split(":", 1)[1].strip()
        info[name] = round(int(value.split()[0]) / 1024**2, 1) if name == "ram_gb" else value
    return info
