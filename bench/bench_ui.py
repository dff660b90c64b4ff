"""UI latency under load: dashboard and campaign-detail p95 with N concurrent clients on loopback.

Runs against the configured Neo4j (a world already loaded and detected, e.g. `medium`), starts the app with
`linkwatch serve` (waitress) in a process of its own on a free loopback port (`--in-process`: in this one), logs N clients in, and has each fetch the dashboard and a
campaign page in turn for a fixed number of rounds. Before that, one client opens the dashboard and every
flagged campaign once: the first view after a detection run builds the per-run cache (app/runcache.py), and
those cold timings are printed apart. Prints one JSON line per page: count, errors, p50/p95/max ms, and the
load average before and after (the machine may be shared).

    linkwatch simulate --scale medium --seed 1 --out /tmp/medium && linkwatch load /tmp/medium && linkwatch detect
    python bench/bench_ui.py --clients 16 --rounds 20
"""
from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

from waitress.server import create_server

from app import auth, create_app
from graph import db

USER, PASSWORD = "bench-ui", "bench-ui-password-1"


class Client:
    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, ""

    def login(self) -> None:
        page = self.get("/login")[1]
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"username": USER, "password": PASSWORD, "csrf_token": token}).encode()
        self.opener.open(self.base + "/login", data=data, timeout=60).read()


def _wait_until_up(base: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the app did not answer on {base} within {seconds:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--threads", type=int, default=16, help="waitress worker threads")
    parser.add_argument("--in-process", action="store_true",
                        help="serve from the benchmark's own process (the clients then compete with the app for "
                             "the GIL); default: `linkwatch serve` in a process of its own, as in production")
    args = parser.parse_args()

    auth.save_user(USER, "viewer", PASSWORD)
    flagged = db.run("ui/campaigns", min_score=0.0, flagged_only=True, active_only=True)
    campaigns = [r["campaign_id"] for r in sorted(flagged, key=lambda r: -r["score"])]
    if not campaigns:
        raise SystemExit("no flagged campaigns: load a world and run `linkwatch detect` first")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    if args.in_process:
        server = create_server(create_app(), host="127.0.0.1", port=port, threads=args.threads)
        threading.Thread(target=server.run, daemon=True).start()
    else:
        server = subprocess.Popen(
            [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))",
             "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", str(args.threads)])
        _wait_until_up(base)
    load_before = os.getloadavg()

    first = Client(base)
    first.login()
    cold = {}
    for path in ["/campaigns"] + [f"/campaigns/{c}" for c in campaigns]:
        started = time.perf_counter()
        status, _ = first.get(path)
        cold[path] = round((time.perf_counter() - started) * 1000, 1) if status == 200 else f"HTTP {status}"
    print(json.dumps({"first_view_ms": cold}))

    timings: dict[str, list[float]] = {"dashboard": [], "campaign": []}
    errors = {"dashboard": 0, "campaign": 0}
    lock = threading.Lock()

    def worker(index: int) -> None:
        client = Client(base)
        client.login()
        for round_ in range(args.rounds):
            for page, path in (("dashboard", "/campaigns"),
                               ("campaign", f"/campaigns/{campaigns[(index + round_) % len(campaigns)]}")):
                started = time.perf_counter()
                status, _ = client.get(path)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    timings[page].append(elapsed)
                    errors[page] += status != 200

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if args.in_process:
        server.task_dispatcher.shutdown(timeout=10)
        server.close()
    else:
        server.terminate()
        server.wait(timeout=30)
    load_after = os.getloadavg()
    for page, values in timings.items():
        values.sort()
        print(json.dumps({"page": page, "clients": args.clients, "requests": len(values), "errors": errors[page],
                          "p50_ms": round(statistics.median(values), 1),
                          "p95_ms": round(values[int(0.95 * (len(values) - 1))], 1),
                          "max_ms": round(values[-1], 1), "campaigns": len(campaigns), "wall_s": round(wall, 1),
                          "loadavg_1m_before_after": [round(load_before[0], 2), round(load_after[0], 2)]}))


if __name__ == "__main__":
    main()
