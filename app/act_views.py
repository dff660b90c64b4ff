"""Acting on a campaign: chokepoints (what to block, at what collateral), related campaigns, partner corroboration.

The chokepoint plan as JSON and CSV; the campaign page (app/campaigns.py) shows the same plan, related campaigns
and partner corroboration in ``_act_panel.html``.
"""
from __future__ import annotations

import io

from flask import Blueprint, Response, abort, jsonify, request

from app.act_cli import write_chokepoints_csv
from app.auth import require_role
from app.pages import show_cypher
from graph.errors import LinkwatchError

bp = Blueprint("act", __name__)


def _chokepoints(campaign_id: str) -> dict:
    from graph.act import chokepoints

    raw = request.args.get("target")
    try:
        result = chokepoints.plan(campaign_id, None if raw in (None, "") else chokepoints.parse_target(raw))
    except chokepoints.CampaignNotFound:
        abort(404)
    show_cypher("act/chokepoint_candidates", campaign=campaign_id)
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
