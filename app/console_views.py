"""The Cypher console: its page, POST /api/cypher and the per-user history (role analyst and above)."""
from __future__ import annotations

import threading
from contextlib import contextmanager

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_login import current_user

from app import graphview
from app.auth import require_role
from app.params import text_arg
from graph import audit, console, queries
from graph.errors import LinkwatchError

bp = Blueprint("console", __name__)

STATUS = {console.QueryRefused: 403, console.QueryInvalid: 400, console.QueryTimeout: 408}


class ConsoleBusy(LinkwatchError):
    """Too many console queries are running (HTTP 429)."""


class ConsoleGate:
    """At most ``total`` console queries at once, at most ``per_user`` of one user's.

    A query beyond either answers 429 at once instead of waiting for a worker: the web server's other
    threads stay free for every other page (and /healthz) however busy the console is."""

    def __init__(self, total: int, per_user: int):
        self.total, self.per_user = total, per_user
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextmanager
    def admit(self, user: str):
        with self._lock:
            if sum(self._running.values()) >= self.total:
                raise ConsoleBusy(f"the console is running {self.total} queries already "
                                  "(LINKWATCH_CONSOLE_MAX_CONCURRENT); try again when one has finished")
            if self._running.get(user, 0) >= self.per_user:
                raise ConsoleBusy(f"you have {self.per_user} console queries running already "
                                  "(LINKWATCH_CONSOLE_MAX_CONCURRENT_PER_USER); wait for one to finish")
            self._running[user] = self._running.get(user, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._running[user] -= 1
                if not self._running[user]:
                    del self._running[user]


def gate() -> ConsoleGate:
    config = current_app.config
    return current_app.extensions.setdefault(
        "linkwatch_console_gate",
        ConsoleGate(config["CONSOLE_MAX_CONCURRENT"], config["CONSOLE_MAX_CONCURRENT_PER_USER"]))


@bp.route("/console")
@require_role("analyst")
def page():
    limits = current_app.config["CONSOLE_LIMITS"]
    return render_template("console.html", query=text_arg("query"), params=text_arg("params", "{}"),
                           max_rows=limits.max_rows, timeout_s=limits.timeout_s)


@bp.route("/api/cypher", methods=["POST"])
@require_role("analyst")
def run_cypher():
    # the body as a whole (an object, 64-bit integers, finite numbers, real unicode, bounded size and
    # nesting) was checked before the view by app.params.check_json_body
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return jsonify(error='send JSON {"query": "…", "params": {…}}'), 400
    query, params = body["query"], body.get("params") or {}
    if not isinstance(params, dict):
        return jsonify(error="params must be a JSON object"), 400
    limits = current_app.config["CONSOLE_LIMITS"]
    outcome: dict = {"query": query[:limits.max_query_chars], "params": params}
    try:
        with gate().admit(current_user.name):
            result = console.run_readonly(query, params, limits=limits,
                                          metadata={"user": current_user.name})
    except ConsoleBusy as exc:
        return jsonify(error=str(exc)), 429, {"Retry-After": "5"}
    except tuple(STATUS) as exc:
        audit.record("console.query", current_user.name, **outcome, refused=True, error=str(exc),
                     kind=type(exc).__name__)
        return jsonify(error=str(exc)), STATUS[type(exc)]
    audit.record("console.query", current_user.name, **outcome, refused=False, rows=len(result.rows),
                 truncated=result.truncated, ms=result.ms)
    response = {"columns": result.columns, "rows": result.rows, "truncated": result.truncated, "ms": result.ms}
    nodes, rels = graphview.collect(result.rows)
    if nodes:
        response["graph"] = graphview.network(nodes, rels)
    return jsonify(response)


@bp.route("/api/cypher/history")
@require_role("analyst")
def history():
    events = audit.recent("console.query", user=current_user.name, limit=50)
    return jsonify(history=[{"at": e["at"], "query": e["details"]["query"], "params": e["details"]["params"],
                             "refused": e["details"]["refused"]} for e in events])


@bp.route("/api/queries")
@require_role("analyst")
def list_queries():
    found = queries.search(current_user.name, text_arg("q"), text_arg("tag"))
    return jsonify(queries=[q.as_dict() for q in found])


@bp.route("/api/queries", methods=["POST"])
@require_role("analyst")
def save_query():
    body = request.get_json(silent=True) or {}
    try:
        saved = queries.save(current_user.name, str(body.get("title", "")), str(body.get("query", "")),
                             str(body.get("description", "")), body.get("params") or {}, body.get("tags") or [])
    except console.QueryRefused as exc:
        return jsonify(error=str(exc)), 403
    except LinkwatchError as exc:
        return jsonify(error=str(exc)), 400
    audit.record("query.save", current_user.name, id=saved.id, title=saved.title)
    return jsonify(saved.as_dict()), 201


@bp.route("/api/queries/import", methods=["POST"])
@require_role("analyst")
def import_query():
    upload = request.files.get("file")
    if upload is None:
        return jsonify(error="send the .cypher file as multipart field 'file'"), 400
    try:
        text = upload.read().decode("utf-8")
        saved = queries.import_file(current_user.name, text, upload.filename or "upload.cypher")
    except UnicodeDecodeError:
        return jsonify(error=f"{upload.filename}: not UTF-8 text"), 400
    except console.QueryRefused as exc:
        return jsonify(error=f"{upload.filename}: {exc}"), 403
    except LinkwatchError as exc:
        return jsonify(error=str(exc)), 400
    audit.record("query.import", current_user.name, id=saved.id, title=saved.title, filename=upload.filename)
    return jsonify(saved.as_dict()), 201


@bp.route("/api/queries/<query_id>.cypher")
@require_role("analyst")
def export_query(query_id: str):
    found = queries.find(current_user.name, query_id)
    if found is None:
        return jsonify(error=f"no query {query_id!r}"), 404
    return Response(found.to_file(), mimetype="text/plain",
                    headers={"Content-Disposition": f'attachment; filename="{query_id}.cypher"'})


@bp.route("/api/queries/<query_id>", methods=["DELETE"])
@require_role("analyst")
def delete_query(query_id: str):
    if not queries.delete(current_user.name, query_id):
        return jsonify(error=f"no query {query_id!r} of yours"), 404
    audit.record("query.delete", current_user.name, id=query_id)
    return "", 204
