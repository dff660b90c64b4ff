"""Helpers shared by the benchmarks: which code was measured and on what machine."""
from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
