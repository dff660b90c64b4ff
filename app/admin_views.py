"""The database overview: node counts per label and the GDS version (once the home page, now under /admin)."""
from __future__ import annotations

from flask import Blueprint

from app.auth import require_role
from app.pages import render_page, run_shown
from graph import db

bp = Blueprint("admin", __name__)


@bp.route("/admin/overview")
@bp.route("/api/overview", endpoint="overview_json")
@require_role("viewer")
def overview():
    """Node counts per label and the GDS version."""
    return render_page("overview.html", labels=run_shown("app/graph_overview"), gds_version=db.gds_version())
