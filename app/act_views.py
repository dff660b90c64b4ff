"""Acting on a campaign: chokepoints (what to block, at what collateral), related campaigns, partner corroboration.

Routes live here rather than in app/campaigns.py; the campaign page includes ``_act_panel.html`` and its JSON
twin gains ``related`` and ``corroborated_by`` through ``campaign_extras``.
"""
from __future__ import annotations

import io

from flask import Blueprint, Response, abort, jsonify, request

from app.act_cli import write_chokepoints_csv
from app.auth import require_role
from app.investigate import note
from graph.errors import LinkwatchError

bp = Blueprint("act", __name__)


def _chokepoints(campaign_id: str) -> dict:
    from graph.act import chokepoints

    raw = request.args.get("target")
    try:
        result = chokepoints.plan(campaign_id, None if raw in (None, "") else chokepoints.parse_target(raw))
    except chokepoints.CampaignNotFound:
        abort(404)
    note("act/chokepoint_candidates", campaign=campaign_id)
    return result


@bp.route("/api/campaigns/<campaign_id>/chokepoints")
@require_role("viewer")
def chokepoints_json(campaign_id: str):
    try:
        return jsonify(_chokepoints(campaign_id))
    except LinkwatchError as exc:
        return jsonify(error=str(exc)), 400


@bp.route("/campaigns/<campaign_id>/chokepoints.csv")
@require_role("viewer")
def chokepoints_csv(campaign_id: str):
    try:
        result = _chokepoints(campaign_id)
    except LinkwatchError as exc:
        abort(400, description=str(exc))
    out = io.StringIO()
    write_chokepoints_csv(result, out)
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{campaign_id}-chokepoints.csv"'})


def campaign_extras(campaign_id: str, per_run) -> dict:
    """What the campaign page and its JSON twin show besides detection's own facts.

    ``per_run(key, compute)`` caches what only changes with a detection run (chokepoints, related campaigns);
    partner corroboration changes with every import, so it is read each time.
    """
    from graph.act import chokepoints, indicators, related

    def plan():
        try:
            return chokepoints.plan(campaign_id)
        except LinkwatchError as exc:
            return {"error": str(exc)}

    note("act/chokepoint_candidates", campaign=campaign_id)
    note("act/campaign_related", campaign=campaign_id)
    note("act/campaign_things", campaign=campaign_id)
    return {"chokepoints": per_run(("act-chokepoints", campaign_id), plan),
            "related": per_run(("act-related", campaign_id), lambda: related.related_to(campaign_id)["related"]),
            "corroborated_by": indicators.corroboration(campaign_id)}
