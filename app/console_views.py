"""The Cypher console: its page, POST /api/cypher and the per-user history (role analyst and above)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_login import current_user

from app import graphview
from app.auth import require_role
from graph import audit, console

bp = Blueprint("console", __name__)

STATUS = {console.QueryRefused: 403, console.QueryInvalid: 400, console.QueryTimeout: 408}


@bp.route("/console")
@require_role("analyst")
def page():
    return render_template("console.html", query=request.args.get("query", ""),
                           max_rows=current_app.config["CONSOLE_MAX_ROWS"],
                           timeout_s=current_app.config["CONSOLE_TIMEOUT_S"])


@bp.route("/api/cypher", methods=["POST"])
@require_role("analyst")
def run_cypher():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return jsonify(error='send JSON {"query": "…", "params": {…}}'), 400
    query, params = body["query"], body.get("params") or {}
    if not isinstance(params, dict):
        return jsonify(error="params must be a JSON object"), 400
    limits = current_app.config
    outcome: dict = {"query": query, "params": params}
    try:
        result = console.run_readonly(query, params, timeout_s=limits["CONSOLE_TIMEOUT_S"],
                                      max_rows=limits["CONSOLE_MAX_ROWS"], metadata={"user": current_user.name})
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
