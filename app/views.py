"""Service endpoints: who am I (for API clients) and the health check. Every other page lives in a page module."""
from __future__ import annotations

from flask import Blueprint, jsonify
from flask_login import current_user, login_required

from graph import db
from graph.errors import LinkwatchError

bp = Blueprint("main", __name__)


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
