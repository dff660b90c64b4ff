"""Cases: an analyst sets a campaign's or an account's status and assignee and adds notes; a decided campaign
case exports the accounts its decision covered (graph/cases.py keeps the decision's snapshot)."""
from __future__ import annotations

import io
import re

from flask import Blueprint, Response, abort, jsonify, redirect, request, url_for
from flask_login import current_user

from app import params
from app.auth import require_role
from graph import cases, csv_export
from graph.errors import LinkwatchError

bp = Blueprint("cases", __name__)


@bp.route("/cases/<kind>/<anyid:subject_id>", methods=["POST"])
@require_role("analyst")
def update_case(kind: str, subject_id: str):
    params.to_choice(kind, "kind", cases.KINDS)
    data = params.json_object() if request.is_json else request.form
    status = params.to_text(data.get("status"), "status") or None
    assignee = data.get("assignee")
    assignee = None if assignee is None else params.to_text(assignee, "assignee")
    note = params.to_text(data.get("note"), "note", max_len=cases.MAX_NOTE_LENGTH)
    try:
        if status or assignee is not None:
            cases.update(kind, subject_id, current_user.name, status=status, assignee=assignee)
        if note.strip():
            cases.add_note(kind, subject_id, current_user.name, note)
        case = cases.get(kind, subject_id) if request.is_json else None
    except LinkwatchError as exc:
        if request.is_json:
            return jsonify(error=str(exc)), 400
        abort(400, description=str(exc))
    if request.is_json:
        return jsonify(case)
    target = url_for("campaigns.campaign", campaign_id=subject_id) if kind == "campaign" else \
        url_for("accounts.account", account_id=subject_id)
    return redirect(target)


ENFORCEMENT_COLUMNS = ["account_id", "case_id", "campaign_id", "decision_id", "decision", "decided_by", "decided_at",
                       "run_id"]


def _enforcement(campaign_id: str) -> dict:
    """The decision named by ``?decision=`` (default: the latest) with its accounts; 404 if there is none."""
    wanted = params.text_arg("decision").strip()
    if not wanted:
        latest = cases.decisions(campaign_id)
        if not latest:
            abort(404, description=f"campaign {campaign_id!r} has no decision yet")
        wanted = latest[0]["decision_id"]
    found = cases.decision_accounts(campaign_id, wanted)
    if found is None:
        abort(404, description=f"campaign {campaign_id!r} has no decision {wanted!r}")
    return {"case_id": f"campaign:{campaign_id}", "campaign_id": campaign_id, **found}


@bp.route("/campaigns/<id:campaign_id>/enforcement.csv")
@require_role("viewer")
def enforcement_csv(campaign_id: str):
    """One line per account a decision covered, with the case, decision, decider and time (formula-safe CSV)."""
    found = _enforcement(campaign_id)
    out = io.StringIO()
    csv_export.write_rows(out, ENFORCEMENT_COLUMNS, ([account, *(found[c] for c in ENFORCEMENT_COLUMNS[1:])]
                                                     for account in found["account_ids"]))
    name = re.sub(r"[^A-Za-z0-9._-]", "_", campaign_id)[:100]
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}-enforcement.csv"'})


@bp.route("/api/campaigns/<id:campaign_id>/enforcement", endpoint="enforcement_json")
@require_role("viewer")
def enforcement_json(campaign_id: str):
    return jsonify(_enforcement(campaign_id))
