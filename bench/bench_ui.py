"""UI latency under load: dashboard and campaign-detail p95 with N concurrent clients on loopback.

Runs against the configured Neo4j (a world already loaded and detected, e.g. `medium`), starts the app with
`linkwatch serve` (waitress) in a process of its own on a free loopback port (`--in-process`: in this one), logs N clients in, and has each fetch the dashboard and a
campaign page in turn for a fixed number of rounds. Before that, one client opens the dashboard and every
flagged campaign once: the first view after a detection run builds the per-run cache (app/runcache.py), and
those cold timings are printed apart. Prints one JSON line per page: count, errors, p50/p95/max ms, and the
load average before and after (the machine may be shared).

    linkwatch simulate --scale medium --seed 1 --out /tmp/medium && linkwatch load /tmp/medium && linkwatch detect
    python bench/bench_ui.py --clients 16 --rounds 20
    python bench/bench_ui.py --first-view --clients 16 --rounds 10   # first view after a new run: cold vs warmed

``--first-view`` measures what the background warmer (app/warmup.py) buys: twice — once with
LINKWATCH_WEB_WARM_CAMPAIGNS=0 (nothing warmed, the baseline), once with the default — it starts `linkwatch
serve`, waits until it answers and has seen the current run, then twice stamps the newest run as just completed
(bench/cypher/mark_run_completed.cypher: to the server that is a new run, as at the end of `detect`) and waits
``--warm-wait`` seconds. After the first stamp one client opens the home page (triage queue) and each of the
``--top`` campaigns in turn (first view of each page alone); after the second, the N clients arrive together:
their first round is the first view at N clients, the later rounds the warm state (p95 of the home page, the
campaign pages and a static file, the same-run baseline for the machine's load). On `medium`:

    linkwatch simulate --scale medium --seed 1 --out /tmp/medium && linkwatch load /tmp/medium && linkwatch detect
    python bench/bench_ui.py --first-view --clients 16 --rounds 10 --top 5 --warm-wait 60
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
from pathlib import Path

from waitress.server import create_server

from app import auth, create_app
from graph import db

USER, PASSWORD = "bench-ui", "bench-ui-password-1"


class Client:
    timeout_s = 60.0  # a request that takes longer counts as an error (status 0) with its waiting time

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=self.timeout_s) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, ""
        except OSError:  # timed out or connection lost: an error, timed like any other request
            return 0, ""

    def login(self) -> None:
        page = self.get("/login")[1]
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"username": USER, "password": PASSWORD, "csrf_token": token}).encode()
        self.opener.open(self.base + "/login", data=data, timeout=self.timeout_s).read()


def _wait_until_up(base: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the app did not answer on {base} within {seconds:.0f} s")


def _serve(port: int, threads: int, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))",
         "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads)], env={**os.environ, **env})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[int(0.95 * (len(values) - 1))], 1)


def _round_robin(base: str, top: list[str], clients: int, rounds: int) -> dict:
    """``clients`` logged-in clients start together (a barrier) and each fetches, per round, the home page, one of
    the ``top`` campaigns (client i starts at campaign i, then the next) and a static file. Round 0 is the first view
    at ``clients`` clients; rounds 1.. the warm state. Returns {round kind: {page: [ms]}} and the error count."""
    timings = {"first": {"home": [], "campaign": [], "static": []},
               "warm": {"home": [], "campaign": [], "static": []}}
    errors = {"first": 0, "warm": 0}
    lock = threading.Lock()
    gate = threading.Barrier(clients)

    def worker(index: int) -> None:
        client = Client(base)
        client.login()
        gate.wait()
        for round_ in range(rounds):
            for page, path in (("home", "/"), ("campaign", f"/campaigns/{top[(index + round_) % len(top)]}"),
                               ("static", "/static/linkwatch.css")):
                started = time.perf_counter()
                status, _ = client.get(path)
                with lock:
                    kind = "first" if round_ == 0 else "warm"
                    timings[kind][page].append((time.perf_counter() - started) * 1000)
                    errors[kind] += status != 200

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"timings": timings, "errors": errors}


def _new_run(args: argparse.Namespace) -> str:
    """To the running server, a detection run has just completed (its cache key changes); then the warmer's head
    start. Returns the run id."""
    mark = (Path(__file__).parent / "cypher" / "mark_run_completed.cypher").read_text()
    run_id = db.driver().execute_query(mark).records[0]["run_id"]
    time.sleep(args.warm_wait)
    return run_id


def first_view(args: argparse.Namespace, campaigns: list[str]) -> None:
    """First view after a new run, without and with the warmer, in the same run of the benchmark.

    Per mode, two new runs: after the first, one client opens the home page and each top campaign in turn (the
    first view of each page alone); after the second, ``--clients`` clients arrive together (first view at N
    clients: their round 0) and go on for ``--rounds`` rounds (the warm state). Same-run baselines: the not-warmed
    mode for the warmer, the warm p95 for the first view, and a static file fetched in the same rounds for the
    machine's load."""
    top = campaigns[:args.top]
    paths = ["/"] + [f"/campaigns/{c}" for c in top]
    summary: dict[str, dict] = {}
    for mode, env in (("not warmed", {"LINKWATCH_WEB_WARM_CAMPAIGNS": "0"}), ("warmed", {})):
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = _serve(port, args.threads, env)
        try:
            _wait_until_up(base)
            time.sleep(3)  # the warmer has looked at the current run (it checks every second)
            load_before = os.getloadavg()[0]
            _new_run(args)
            client = Client(base)
            client.login()
            alone = {}
            for path in paths:
                started = time.perf_counter()
                status, _ = client.get(path)
                elapsed = round((time.perf_counter() - started) * 1000, 1)
                alone[path] = elapsed if status == 200 else f"HTTP {status or 'timeout'} after {elapsed} ms"
            print(json.dumps({"mode": mode, "first_view_alone_ms": alone}), flush=True)
            _new_run(args)
            measured = _round_robin(base, top, args.clients, args.rounds)
            first, warm = measured["timings"]["first"], measured["timings"]["warm"]
            ratio = lambda a, b: round(a / max(b, 0.1), 1) if a is not None and b is not None else None  # noqa: E731
            row = {"mode": mode,
                   "first_view_alone_ms": alone,
                   "first_view_clients_p95_ms": {page: _p95(v) for page, v in first.items()},
                   "first_view_clients_max_ms": {page: round(max(v), 1) for page, v in first.items()},
                   "warm_p95_ms": {page: _p95(v) for page, v in warm.items()},
                   "first_over_warm_p95": {page: ratio(_p95(first[page]), _p95(warm[page]))
                                           for page in ("home", "campaign")},
                   "warm_over_static_p95": {page: ratio(_p95(warm[page]), _p95(warm["static"]))
                                            for page in ("home", "campaign")},
                   "timeout_s": Client.timeout_s,
                   "requests": sum(len(v) for r in measured["timings"].values() for v in r.values()),
                   "errors": measured["errors"], "clients": args.clients, "rounds": args.rounds, "top": top,
                   "loadavg_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)]}
            summary[mode] = row
            print(json.dumps(row), flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
    cold, warmed = summary["not warmed"], summary["warmed"]
    ratio = lambda a, b: round(a / max(b, 0.1), 2) if a is not None and b is not None else None  # noqa: E731
    print(json.dumps({"not_warmed_over_warmed": {
        "first_view_clients_p95": {page: ratio(cold["first_view_clients_p95_ms"][page],
                                               warmed["first_view_clients_p95_ms"][page])
                                   for page in ("home", "campaign")},
        "warm_p95": {page: ratio(cold["warm_p95_ms"][page], warmed["warm_p95_ms"][page])
                     for page in ("home", "campaign")}}}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--threads", type=int, default=16, help="waitress worker threads")
    parser.add_argument("--in-process", action="store_true",
                        help="serve from the benchmark's own process (the clients then compete with the app for "
                             "the GIL); default: `linkwatch serve` in a process of its own, as in production")
    parser.add_argument("--first-view", action="store_true",
                        help="first view after a new run, without and with the background warmer")
    parser.add_argument("--top", type=int, default=5, help="--first-view: campaigns opened (highest score first)")
    parser.add_argument("--timeout", type=float, default=Client.timeout_s,
                        help="seconds a request may take; longer counts as an error (status 0), timed as waited")
    parser.add_argument("--warm-wait", type=float, default=30.0, help="--first-view: seconds between the new run "
                        "and the first view (the warmer's head start)")
    args = parser.parse_args()
    Client.timeout_s = args.timeout

    auth.save_user(USER, "viewer", PASSWORD)
    flagged = sorted(db.run("ui/campaigns", min_score=0.0, flagged_only=True, active_only=True),
                     key=lambda r: -r["score"])
    campaigns = [r["campaign_id"] for r in flagged]
    if not campaigns:
        raise SystemExit("no flagged campaigns: load a world and run `linkwatch detect` first")
    counts = {r["label"]: r["nodes"] for r in db.run("app/graph_overview")}
    print(json.dumps({"world": {"accounts": counts.get("Account"), "flagged_campaigns": len(campaigns),
                                "top_campaign_sizes": [r.get("size") for r in flagged[:args.top]]},
                      "cpus": os.cpu_count(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}),
          flush=True)
    if args.first_view:
        first_view(args, campaigns)
        return
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
