"""Pages and their JSON twins. Every page requires login except /login and /healthz."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask_login import current_user, login_required

from app.auth import require_role
from graph import db
from graph.errors import LinkwatchError

bp = Blueprint("main", __name__)


def _overview() -> dict:
    return {"labels": db.run("app/graph_overview"), "gds_version": db.gds_version()}


@bp.route("/")
@login_required
def index():
    return render_template("index.html", overview=_overview(), cypher_name="app/graph_overview")


@bp.route("/api/overview")
@require_role("viewer")
def overview_json():
    return jsonify(_overview())


@bp.route("/api/whoami")
@login_required
def whoami():
    return jsonify(name=current_user.name, role=current_user.role, via_token=current_user.via_token)


@bp.route("/healthz")
def healthz():
    try:
        version = db.gds_version()
    except LinkwatchError as exc:
        return jsonify(status="unavailable", error=str(exc)), 503
    return jsonify(status="ok", gds_version=version)
