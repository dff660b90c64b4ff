"""Pages and their JSON twins. Every page requires login except /login and /healthz."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import current_user, login_required

from app.auth import require_role
from app.investigate import respond, shown
from graph import db
from graph.errors import LinkwatchError

bp = Blueprint("main", __name__)


@bp.route("/")
@bp.route("/api/overview", endpoint="overview_json")
@require_role("viewer")
def index():
    """Node counts per label and the GDS version."""
    return respond("index.html", request.path.startswith("/api/"), labels=shown("app/graph_overview"),
                   gds_version=db.gds_version())


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
