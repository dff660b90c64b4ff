"""`linkwatch serve` and `linkwatch users …`."""
from __future__ import annotations

import argparse
import getpass
import sys

from app import auth
from graph import db
from graph.config import setting
from graph.errors import LinkwatchError


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise auth.UserError("the two passwords differ")
    return first


def _users(args: argparse.Namespace) -> int:
    db.apply_schema()
    if args.action == "add":
        auth.save_user(args.name, args.role, _read_password(args))
        print(f"user {args.name} saved with role {args.role}")
    elif args.action == "list":
        for row in auth.list_users():
            state = "disabled" if row["disabled"] else "active"
            print(f"{row['name']:<24} {row['role']:<8} {state:<9} tokens={row['tokens']} created={row['created_at']}")
    elif args.action in ("disable", "enable"):
        auth.set_disabled(args.name, args.action == "disable")
        print(f"user {args.name} {args.action}d")
    elif args.action == "logout":
        version = auth.end_sessions(args.name)
        print(f"user {args.name} logged out everywhere (session version {version})")
    elif args.action == "token":
        token = auth.create_token(args.name, label=args.label or "")
        print(token)
        print("(shown once: store it now; send it as 'Authorization: Bearer <token>')", file=sys.stderr)
    elif args.action == "revoke":
        auth.revoke_token(args.name)
        print(f"token {args.name} revoked")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from waitress import serve

    from app import create_app

    console_slots = int(setting("LINKWATCH_CONSOLE_MAX_CONCURRENT"))
    if args.threads <= console_slots:
        raise LinkwatchError(f"--threads {args.threads} must be above LINKWATCH_CONSOLE_MAX_CONCURRENT "
                             f"({console_slots}), so that other pages keep answering while the console is busy")
    db.gds_version()
    db.apply_schema()
    print(f"Linkwatch UI on http://{args.host}:{args.port}/", file=sys.stderr)
    serve(create_app({"WARM_CACHE": True}), host=args.host, port=args.port, threads=args.threads, ident="linkwatch")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    users = sub.add_parser("users", help="manage web users and API tokens")
    users.add_argument("action", choices=["add", "list", "disable", "enable", "logout", "token", "revoke"],
                       help="logout: end every web session of the user (API tokens stay; revoke them one by one)")
    users.add_argument("name", nargs="?", help="user name (for revoke: the token or its id)")
    users.add_argument("--role", choices=auth.ROLES, default="viewer")
    users.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    users.add_argument("--label", help="what the token is for (token)")
    users.set_defaults(handler=_users)

    serve = sub.add_parser("serve", help="run the analyst web UI (waitress)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--threads", type=int, default=8)
    serve.set_defaults(handler=_serve)
