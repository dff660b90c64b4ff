"""Users, roles, API tokens and the login page.

* Users live in Neo4j as ``(:User {name, role, password_hash, disabled})``;
  passwords are hashed with Werkzeug's scrypt.
* Roles are ordered: viewer < analyst < admin. ``@require_role("analyst")``
  guards a view.
* API tokens look like ``lw_<id>_<secret>``; only the SHA-256 of the secret is
  stored (the secret is 32 random bytes, so a slow hash adds nothing). Scripts
  send ``Authorization: Bearer <token>``; such requests need no CSRF token.
* Failed logins are rate-limited per client address and user name.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from functools import wraps

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from graph import db
from graph.errors import LinkwatchError

ROLES = ("viewer", "analyst", "admin")
MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "lw_"

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "strong"


class UserError(LinkwatchError):
    """A user-management request that cannot be honoured (unknown user, weak password, …)."""


@dataclass
class User(UserMixin):
    name: str
    role: str
    disabled: bool = False
    via_token: bool = False

    def get_id(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return not self.disabled

    def has_role(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def _user(record: dict, via_token: bool = False) -> User:
    return User(name=record["name"], role=record["role"], disabled=bool(record.get("disabled")), via_token=via_token)


def find_user(name: str) -> dict | None:
    rows = db.run("app/user_get", name=name)
    return rows[0]["user"] if rows else None


# ------------------------------------------------------------------ management (CLI and admin)


def save_user(name: str, role: str, password: str) -> None:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise UserError(f"user name {name!r} must be letters, digits, '-', '_' or '.'")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    db.run("app/user_save", name=name, role=role, password_hash=generate_password_hash(password))


def set_disabled(name: str, disabled: bool) -> None:
    if not db.run("app/user_set_disabled", name=name, disabled=disabled):
        raise UserError(f"no user named {name!r}")


def list_users() -> list[dict]:
    return db.run("app/user_list")


def create_token(name: str, label: str = "") -> str:
    """A new bearer token for ``name``; the full token is shown once and never stored."""
    token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    if not db.run("app/token_create", name=name, token_id=token_id, label=label,
                  secret_sha256=hashlib.sha256(secret.encode()).hexdigest()):
        raise UserError(f"no user named {name!r}")
    return f"{TOKEN_PREFIX}{token_id}_{secret}"


def revoke_token(token_id: str) -> None:
    if not db.run("app/token_revoke", token_id=token_id.removeprefix(TOKEN_PREFIX).split("_")[0]):
        raise UserError(f"no token with id {token_id!r}")


def user_for_token(token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX) or token.count("_") < 2:
        return None
    token_id, secret = token[len(TOKEN_PREFIX):].split("_", 1)
    rows = db.run("app/token_lookup", token_id=token_id)
    if not rows:
        return None
    expected = rows[0]["secret_sha256"]
    if not hmac.compare_digest(expected, hashlib.sha256(secret.encode()).hexdigest()):
        return None
    return _user(rows[0]["user"], via_token=True)


# ------------------------------------------------------------------ login throttling


class LoginThrottle:
    """At most ``limit`` failed logins per (address, user) within ``window`` seconds."""

    def __init__(self, limit: int = 5, window: float = 300.0):
        self.limit, self.window = limit, window
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> list[float]:
        times = [t for t in self._failures.get(key, []) if now - t < self.window]
        self._failures[key] = times
        return times

    def blocked(self, key: tuple[str, str]) -> bool:
        with self._lock:
            return len(self._recent(key, time.monotonic())) >= self.limit

    def failed(self, key: tuple[str, str]) -> None:
        with self._lock:
            now = time.monotonic()
            self._recent(key, now).append(now)

    def succeeded(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.pop(key, None)


# ------------------------------------------------------------------ Flask wiring


@login_manager.user_loader
def _load_user(name: str) -> User | None:
    record = find_user(name)
    return _user(record) if record and not record.get("disabled") else None


@login_manager.request_loader
def _load_user_from_bearer(req) -> User | None:
    header = req.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return user_for_token(header[len("Bearer "):].strip())
    return None


@login_manager.unauthorized_handler
def _unauthorized():
    if request.path.startswith("/api/") or request.path.endswith(".json") or request.headers.get("Authorization"):
        return {"error": "authentication required"}, 401
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


def require_role(role: str):
    """Allow the view to users with ``role`` or a higher one; 403 otherwise."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _safe_next(target: str | None) -> str:
    # Only same-site relative paths: never redirect to another host after login.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next", ""))
    name = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    key = (request.remote_addr or "?", name.lower())
    throttle: LoginThrottle = current_app.extensions["linkwatch_login_throttle"]
    if throttle.blocked(key):
        return render_template("login.html", error="Too many failed logins; try again in a few minutes.",
                               next=request.form.get("next", "")), 429
    record = find_user(name) if name else None
    if not record or record.get("disabled") or not check_password_hash(record["password_hash"], password):
        throttle.failed(key)
        return render_template("login.html", error="Unknown user or wrong password.",
                               next=request.form.get("next", "")), 401
    throttle.succeeded(key)
    session.clear()
    login_user(_user(record))
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    flash("Logged out.")
    return redirect(url_for("auth.login"))
