"""The ``linkwatch`` command.

Each area registers its sub-commands through a ``register(subparsers)`` function
listed in COMMAND_MODULES; a handler returns an exit code. Errors a user can fix
are LinkwatchError: printed on one line, exit code non-zero, no traceback.
"""
from __future__ import annotations

import argparse
import importlib
import secrets
import shlex
import sys

from graph.errors import LinkwatchError

# Modules that add sub-commands: each has register(subparsers).
COMMAND_MODULES = [
    "app.cli",
    "loaders.synthetic.cli",
    "loaders.cli",
    "graph.detect.cli",
    "app.web_cli",
    "app.scheduler",
    "graph.reports.cli",
    "app.act_cli",
]


def _neo4j(args: argparse.Namespace) -> int:
    from graph import runtime
    from graph.config import connection

    if args.action == "start":
        state = runtime.start(log=lambda msg: print(msg, file=sys.stderr))
        print("\n".join(state.lines()))
    elif args.action == "stop":
        print("stopped" if runtime.stop() else "not running")
    elif args.action == "status":
        state = runtime.status(check_server=True)
        print("\n".join(state.lines()))
        return 0 if state.running else 3
    elif args.action == "env":
        conn = connection()
        if not conn.password:
            raise LinkwatchError("the managed Neo4j has no password yet; run `linkwatch neo4j start` first")
        for name, value in (
            ("NEO4J_URI", conn.uri),
            ("NEO4J_USERNAME", conn.username),
            ("NEO4J_PASSWORD", conn.password),
            ("NEO4J_DATABASE", conn.database),
        ):
            print(f"export {name}={shlex.quote(value)}")
    return 0


def _schema(args: argparse.Namespace) -> int:
    from graph import db

    version = db.gds_version()
    count = db.apply_schema()
    print(f"schema applied: {count} constraints and indexes (GDS {version})")
    return 0


def _demo(args: argparse.Namespace) -> int:
    """Managed Neo4j + synthetic world + load + detect + UI, each step reusing what a previous run left."""
    from app import auth
    from graph import db, runtime
    from graph.config import connection, managed_paths

    say = lambda msg: print(f"linkwatch demo: {msg}", file=sys.stderr)  # noqa: E731
    if connection().managed:
        state = runtime.start(log=say)
        say(f"Neo4j {state.neo4j_version} + GDS {state.gds_version} on {state.bolt}")
    db.gds_version()
    db.apply_schema()
    home = managed_paths().home
    world = home / "demo-world"
    steps = []
    if not (world / "truth.csv").exists():
        steps.append(["simulate", "--scale", "demo", "--seed", str(args.seed), "--out", str(world), "--force"])
    steps.append(["load", str(world), "--rejects", str(home / "demo-rejects.csv")])
    steps.append(["detect", "--export", str(home / "demo-detection")])
    steps.append(["report"])
    for step in steps:
        say(" ".join(["linkwatch", *step]))
        code = main(step)
        if code != 0:
            say(f"step `linkwatch {step[0]}` failed (exit {code})")
            return code
    password_file = home / "demo-admin-password"
    if not password_file.exists() or auth.find_user("admin") is None:
        password = secrets.token_urlsafe(12)
        auth.save_user("admin", "admin", password)
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
    password = password_file.read_text().strip()
    url = f"http://{args.host}:{args.port}/"
    print(f"Linkwatch is ready: {url}")
    print(f"log in as admin / {password}   (stored in {password_file})")
    if args.no_serve:
        return 0
    return main(["serve", "--host", args.host, "--port", str(args.port)])


def register(sub: argparse._SubParsersAction) -> None:
    neo4j = sub.add_parser("neo4j", help="manage the local Neo4j + GDS server")
    neo4j.add_argument("action", choices=["start", "stop", "status", "env"])
    neo4j.set_defaults(handler=_neo4j)

    schema = sub.add_parser("schema", help="apply constraints and indexes to the configured Neo4j")
    schema.set_defaults(handler=_schema)

    demo = sub.add_parser("demo", help="managed Neo4j + synthetic world + load + detect + report + UI")
    demo.add_argument("--seed", type=int, default=1, help="seed of the synthetic world (default 1)")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--no-serve", action="store_true", help="prepare everything, print the URL, do not serve")
    demo.set_defaults(handler=_demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="linkwatch", description="Account-linkage investigation with Neo4j + GDS.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except LinkwatchError as exc:
        print(f"linkwatch: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("linkwatch: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
