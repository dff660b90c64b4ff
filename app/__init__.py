"""The Linkwatch analyst web app: ``create_app()`` builds it (Flask application factory)."""
from __future__ import annotations

import os
import secrets

from flask import Flask, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from graph import console
from graph.config import managed_paths, setting

csrf = CSRFProtect()


def _secret_key() -> str:
    """LINKWATCH_SECRET_KEY, else a key generated once and kept (mode 0600) in LINKWATCH_HOME."""
    if setting("LINKWATCH_SECRET_KEY"):
        return setting("LINKWATCH_SECRET_KEY")
    path = managed_paths().home / "flask-secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.endswith(".json") or bool(request.headers.get("Authorization"))


def create_app(test_config: dict | None = None) -> Flask:
    from app import account_views, act_views, admin_views, auth, campaigns, cases_views, console_views, graphview, \
        ids, investigate_views, openapi, pages, params, reports_views, runcache, triage_views, views

    app = Flask(__name__)
    # ids with any character are routable: `id`/`anyid` converters (app/ids.py); `//` inside an id is kept
    app.url_map.converters.update(id=ids.IdConverter, anyid=ids.AnyIdConverter)
    app.url_map.merge_slashes = False
    app.config.update(
        SECRET_KEY=_secret_key(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=setting("LINKWATCH_SECURE_COOKIES") == "1",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        # CSRF is checked in _authenticate_and_protect below, so that bearer-token calls skip it.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        CONSOLE_LIMITS=console.Limits.from_settings(),
        CONSOLE_MAX_CONCURRENT=int(setting("LINKWATCH_CONSOLE_MAX_CONCURRENT")),
        CONSOLE_MAX_CONCURRENT_PER_USER=int(setting("LINKWATCH_CONSOLE_MAX_CONCURRENT_PER_USER")),
        RUN_CACHE_CHECK_S=1.0,  # see app/runcache.py
        WARM_CACHE=False,  # `linkwatch serve` sets it: warm the page cache for each new detection run (app/warmup.py)
    )
    if test_config:
        app.config.update(test_config)

    csrf.init_app(app)
    auth.login_manager.init_app(app)
    app.extensions["linkwatch_login_throttle"] = auth.LoginThrottle()
    app.extensions["linkwatch_run_cache"] = runcache.RunCache(check_s=app.config["RUN_CACHE_CHECK_S"])
    app.register_blueprint(auth.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(console_views.bp)
    app.register_blueprint(graphview.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(triage_views.bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(account_views.bp)
    app.register_blueprint(campaigns.bp)
    app.register_blueprint(cases_views.bp)
    app.register_blueprint(investigate_views.bp)
    app.register_blueprint(reports_views.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(act_views.bp)

    @app.before_request
    def _authenticate_and_protect():
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            # A bearer request is authenticated by its token alone, never by a session cookie
            # that happens to ride along; that is what makes skipping CSRF safe.
            user = auth.user_for_token(header[len("Bearer "):].strip())
            if user is None:
                return jsonify(error="invalid or revoked API token"), 401
            g._login_user = user
            return None
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()
        return None

    # a JSON body nested too deep or holding values nothing can use answers 400 before any view reads it
    app.before_request(params.check_json_body)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
        if _wants_json():
            return jsonify(error=f"CSRF check failed: {exc.description}"), 400
        return render_template("error.html", code=400, message=f"CSRF check failed: {exc.description}"), 400

    @app.errorhandler(400)
    def _bad_request(exc):
        message = exc.description if isinstance(exc, HTTPException) and exc.description else "Bad request."
        if _wants_json():
            return jsonify(error=message), 400
        return render_template("error.html", code=400, message=message), 400

    for code, message in ((403, "You do not have access to this page."), (404, "Not found."),
                          (405, "This method is not allowed here."), (413, "The request body is too large."),
                          (500, "Something went wrong on the server; the error was logged.")):
        def handler(exc, code=code, message=message):
            if _wants_json():
                return jsonify(error=message), code
            return render_template("error.html", code=code, message=message), code

        app.register_error_handler(code, handler)

    if app.config["WARM_CACHE"]:
        from app import warmup

        app.extensions["linkwatch_warmer"] = warmup.Warmer(app).start()
    return app
