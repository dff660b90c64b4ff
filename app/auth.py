"""Users, roles, API tokens and the login page.

* Users live in Neo4j as ``(:User {name, role, password_hash, disabled})``;
  passwords are hashed with Werkzeug's scrypt.
* Roles are ordered: viewer < analyst < admin. ``@require_role("analyst")``
  guards a view.
* API tokens look like ``lw_<id>_<secret>``; only the SHA-256 of the secret is
  stored (the secret is 32 random bytes, so a slow hash adds nothing). Scripts
  send ``Authorization: Bearer <token>``; such requests need no CSRF token.
* Failed logins are rate-limited per client address and user name.
* Sessions can be revoked server-side: each user has a ``session_version`` (on its (:User) node), a
  session holds the version it was issued with (inside its user id, ``name:version``, so a remember-me
  cookie would carry it too), and every request compares the two. Logout, a password or role change,
  disabling and "log out everywhere" bump the version: every older cookie stops working at once.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass
from functools import wraps
from urllib.parse import quote, unquote, urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from app import params
from graph import audit, db
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
    session_version: int = 0

    def get_id(self) -> str:
        # what flask-login stores in the session (and would in a remember cookie): name and session version
        return f"{self.name}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return not self.disabled

    def has_role(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def _user(record: dict, via_token: bool = False) -> User:
    return User(name=record["name"], role=record["role"], disabled=bool(record.get("disabled")), via_token=via_token,
                session_version=int(record.get("session_version") or 0))


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


def end_sessions(name: str) -> int:
    """Log ``name`` out everywhere: every session issued before now is refused. Returns the new version."""
    rows = db.run("app/user_end_sessions", name=name)
    if not rows:
        raise UserError(f"no user named {name!r}")
    return rows[0]["session_version"]


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
def _load_user(session_id: str) -> User | None:
    """The user of a session, if the session's version is still the user's (else the session was revoked)."""
    name, _, version = session_id.rpartition(":")
    record = find_user(name) if name else None
    if not record or record.get("disabled"):
        return None
    user = _user(record)
    return user if version == str(user.session_version) else None


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
    # the path percent-encoded, so that the login page's `next` is plain ASCII (see safe_next)
    target = quote(request.path, safe="/:@!$&'()*+,;=-._~")
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return redirect(url_for("auth.login", next=target))


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


# Characters a browser drops from a URL before reading it (TAB, LF, CR anywhere), and other characters no
# redirect target of ours ever holds: control, format and line/paragraph separator characters, surrogates.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}
_DECODE_ROUNDS = 4  # percent-decoding applied before checking ("%2509" -> "%09" -> TAB)


def _decodings(target: str) -> list[str]:
    """``target`` and its successive percent-decodings (a browser or proxy may decode once or twice)."""
    forms = [target]
    for _ in range(_DECODE_ROUNDS):
        decoded = unquote(forms[-1], errors="surrogateescape")
        if decoded == forms[-1]:
            break
        forms.append(decoded)
    return forms


def safe_next(target) -> str:
    """``target`` when it is a same-origin relative path, else ``/``.

    Refused: anything not starting with exactly one ``/``; ``//`` or ``/\\`` (another host) in any
    percent-decoded form; a backslash; a control, format or separator character anywhere (browsers
    drop TAB, LF and CR, so ``/<TAB>/evil.example`` would become ``//evil.example``); a scheme or host.
    """
    fallback = "/"
    if not isinstance(target, str) or not target.startswith("/") or len(target) > 2048:
        return fallback
    for form in _decodings(target):
        if "\\" in form or form.startswith("//"):
            return fallback
        if any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in form):
            return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    # the Location header is ASCII: non-ASCII path characters travel percent-encoded
    return quote(target, safe="/?#&=;:@!$'()*+,%-._~[]")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next", ""))
    name = params.to_text(request.form.get("username"), "username", max_len=200).strip()
    password = params.to_text(request.form.get("password"), "password", max_len=1024)
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
    # no remember-me cookie: a session ends with the browser, and with its version (see the module doc)
    login_user(_user(record), remember=False)
    return redirect(safe_next(request.form.get("next")))


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated and not current_user.via_token:
        end_sessions(current_user.name)  # a copy of this session's cookie must not outlive the logout
    logout_user()
    session.clear()
    flash("Logged out.")
    return redirect(url_for("auth.login"))


@bp.route("/api/users/<user_name>/logout", methods=["POST"])
@require_role("admin")
def logout_everywhere(user_name: str):
    """Admin: end every session of a user (its API tokens are revoked separately)."""
    try:
        version = end_sessions(user_name)
    except UserError as exc:
        return {"error": str(exc)}, 404
    audit.record("user.logout_everywhere", current_user.name, subject=f"user:{user_name}")
    return {"name": user_name, "session_version": version}
