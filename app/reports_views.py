"""Reports page: past linkage reports with their change summary, each viewable and downloadable."""
from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, abort, flash, jsonify, redirect, send_from_directory, url_for
from flask_login import current_user

from app import params
from app.auth import require_role
from app.pages import is_json_twin, render_page, run_shown
from graph import audit
from graph.errors import LinkwatchError

bp = Blueprint("reports", __name__)

LIST_LIMIT = 200
# The files a report folder holds (graph/reports), with how the browser gets them.
FILES = {"report.html": "the report", "report.json": "JSON", "campaigns.csv": "CSV",
         "indicators.stix.json": "STIX 2.1 bundle"}
# The report HTML is ours and self-contained: it needs nothing but inline styles and data: images.
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"


def _present(report: dict) -> dict:
    """A (:Report) as the page shows it: the summary decoded, the files that are really there."""
    summary = report.get("summary")
    folder = Path(report["path"]) if report.get("path") else None
    return {**report, "summary": json.loads(summary) if isinstance(summary, str) else (summary or {}),
            "files": [name for name in FILES if folder is not None and (folder / name).is_file()]}


@bp.route("/reports")
@bp.route("/api/reports", endpoint="listing_json")
@require_role("viewer")
def listing():
    reports = [_present(row["report"]) for row in run_shown("reports/list", limit=LIST_LIMIT)]
    return render_page("reports.html", reports=reports)


@bp.route("/reports", methods=["POST"])
@bp.route("/api/reports", methods=["POST"], endpoint="generate_json")
@require_role("analyst")
def generate():
    """Write a report now (the latest detection run against the one before it)."""
    from graph import reports

    try:
        result = reports.generate(trigger="web")
    except reports.ReportFailed as exc:  # recorded as a failed report; the data, not the request, is at fault
        audit.record("report.generate", current_user.name, subject=exc.report_id, error=str(exc))
        if is_json_twin():
            return jsonify(error=str(exc), report_id=exc.report_id), 422
        flash(str(exc))
        return redirect(url_for(".listing"))
    except LinkwatchError as exc:
        if is_json_twin():
            return jsonify(error=str(exc)), 400
        flash(str(exc))
        return redirect(url_for(".listing"))
    audit.record("report.generate", current_user.name, subject=result.report_id)
    if is_json_twin():
        return jsonify(report_id=result.report_id, summary=result.summary, files=sorted(result.files)), 201
    return redirect(url_for(".report", report_id=result.report_id))


@bp.route("/reports/<report_id>")
@bp.route("/api/reports/<report_id>", endpoint="report_json")
@require_role("viewer")
def report(report_id: str):
    rows = run_shown("reports/get", report_id=report_id)
    if not rows:
        abort(404)
    return render_page("report_view.html", report=_present(rows[0]["report"]), file_labels=FILES)


@bp.route("/reports/<report_id>/files/<name>")
@require_role("viewer")
def report_file(report_id: str, name: str):
    """One file of a report; ``?download=1`` saves it instead of showing it."""
    if name not in FILES:
        abort(404)
    from graph import reports

    record = reports.get_report(report_id)
    if record is None or not record["path"]:
        abort(404)
    response = send_from_directory(record["path"], name, as_attachment=params.flag_arg("download", False))
    response.headers["Content-Security-Policy"] = REPORT_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
