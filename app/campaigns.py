"""Campaigns dashboard, campaign detail (evidence, accounting, network, members, export) and cases."""
from __future__ import annotations

import io
import json
import re

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from app import act_views, graphview, params
from app.auth import require_role
from app.investigate import json_view, note, respond, shown
from graph import audit, cases, csv_export
from graph.errors import LinkwatchError

bp = Blueprint("campaigns", __name__)

PAGE_SIZE = 50
MEMBER_PAGE_SIZE = 100
NETWORK_MEMBERS = 150  # members drawn in the network view (highest scores); the table lists all of them
NETWORK_SHARED = 60
SORT_KEYS = ("score", "size", "requests", "first_activity", "last_activity", "campaign_id")
MAX_SCORE = 100.0  # campaign scores are 0-100


def _parse_json(value, default):
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return default
    return value if value is not None else default


def _per_run(key: tuple, compute):
    """``compute()`` once per detection run (see app/runcache.py); never for case data."""
    return current_app.extensions["linkwatch_run_cache"].fetch(key, compute)


def _campaign_rows(filters: dict) -> list[dict]:
    def compute():
        rows = shown("ui/campaigns", **filters)
        for row in rows:
            row["accounting"] = _parse_json(row["accounting"], {})
            row["capabilities"] = row["accounting"].get("capabilities", {})
        return rows

    return _per_run(("campaigns", *sorted(filters.items())), compute)


@bp.route("/campaigns")
@bp.route("/api/campaigns", endpoint="dashboard_json")
@require_role("viewer")
def dashboard():
    filters = {
        "min_score": params.float_arg("min_score", 0.0, 0.0, MAX_SCORE),
        "flagged_only": params.flag_arg("flagged", True),
        "active_only": params.flag_arg("active", True),
    }
    cases_by_id = {c["campaign_id"]: c for c in shown("ui/campaign_cases")}
    rows = []
    for row in _campaign_rows(filters):
        case = cases_by_id.get(row["campaign_id"], {})
        rows.append({**row, "case_status": case.get("status") or "new", "assignee": case.get("assignee")})
    capability = params.text_arg("capability").strip().lower()
    status = params.text_arg("status").strip()
    lineage = params.text_arg("lineage").strip()
    if capability:
        rows = [r for r in rows if capability in r["capabilities"]]
    if status:
        rows = [r for r in rows if r["case_status"] == status]
    if lineage:
        rows = [r for r in rows if r["lineage"] == lineage]
    sort = params.choice_arg("sort", "score", SORT_KEYS)
    descending = params.choice_arg("order", "desc", ("desc", "asc")) == "desc"
    present = sorted((r for r in rows if r[sort] is not None), key=lambda r: r[sort], reverse=descending)
    rows = present + [r for r in rows if r[sort] is None]  # missing values last, whatever the order
    page = params.page_arg()
    shown_rows = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    return respond("campaigns.html", json_view(), campaigns=shown_rows, total=len(rows), page=page,
                   pages=max(1, -(-len(rows) // PAGE_SIZE)), sort=sort, order="desc" if descending else "asc",
                   filters={**filters, "capability": capability, "status": status, "lineage": lineage},
                   statuses=cases.STATUSES)


def _campaign_or_404(campaign_id: str) -> dict:
    """The campaign's facts and lineage history (per run; its case is read separately)."""
    def compute():
        rows = shown("ui/campaign", campaign=campaign_id)
        if not rows:
            return None
        campaign = rows[0]["campaign"]
        campaign["accounting"] = _parse_json(campaign.get("accounting"), {})
        campaign["contributions"] = _parse_json(campaign.get("contributions"), {})
        return {"campaign": campaign, "history": rows[0]["history"]}

    found = _per_run(("campaign", campaign_id), compute)
    if found is None:
        abort(404)
    return found


def _drawing(campaign_id: str) -> dict:
    """The network view: the highest-scoring members, what at least two of them share, and the pyvis data."""
    top = shown("ui/campaign_members", campaign=campaign_id, skip=0, limit=NETWORK_MEMBERS)
    shared = shown("ui/campaign_shared", members=[m["account"] for m in top], limit=NETWORK_SHARED)
    return {"drawn": len(top), "shared": shared, "network": _network(top, shared)}


def _network(members: list[dict], shared: list[dict]) -> dict:
    """The drawn part of a campaign: its highest-scoring members and what at least two of them share."""
    nodes = {f"a:{m['account']}": {"_id": f"a:{m['account']}", "_labels": ["Account"], "account_id": m["account"],
                                   "score": m["score"], "org": m["org"]} for m in members}
    rels = {}
    for item in shared:
        node_id = f"i:{item['id']}"
        nodes[node_id] = {"_id": node_id, "_labels": [item["label"]], "value": item["value"],
                          "proxy_type": item["proxy_type"], "accounts": len(item["users"])}
        for user in item["users"]:
            rels[f"{user}->{node_id}"] = {"_id": f"{user}->{node_id}", "_type": "USES", "_start": f"a:{user}",
                                          "_end": node_id}
    return graphview.network(nodes, rels, max_nodes=NETWORK_MEMBERS + NETWORK_SHARED)


@bp.route("/campaigns/<id:campaign_id>")
@bp.route("/api/campaigns/<id:campaign_id>", endpoint="campaign_json")
@require_role("viewer")
def campaign(campaign_id: str):
    found = _campaign_or_404(campaign_id)
    page = params.page_arg()
    members = _per_run(("members", campaign_id, page), lambda: shown(
        "ui/campaign_members", campaign=campaign_id, skip=(page - 1) * MEMBER_PAGE_SIZE, limit=MEMBER_PAGE_SIZE + 1))
    drawing = _per_run(("drawing", campaign_id), lambda: _drawing(campaign_id))
    charts = _per_run(("charts", campaign_id), lambda: {
        "creation": shown("ui/campaign_creation", campaign=campaign_id),
        "activity": shown("ui/campaign_activity", campaign=campaign_id)})
    per_run = {**found, **drawing, **charts, "members": members[:MEMBER_PAGE_SIZE], "page": page,
               "more": len(members) > MEMBER_PAGE_SIZE}
    case = cases.get("campaign", campaign_id)
    live = {"case": case["case"], "notes": case["notes"], "case_history": case["history"], "statuses": cases.STATUSES,
            **act_views.campaign_extras(campaign_id, _per_run)}
    if json_view():
        return respond("campaign.html", True, **per_run, **live)
    # the page's run-dependent middle (evidence, charts, network, members) is rendered once per run and page
    run_part = _per_run(("campaign.html", campaign_id, page),
                        lambda: Markup(render_template("_campaign_run.html", **per_run)))
    return respond("campaign.html", False, **per_run, **live, run_part=run_part)


@bp.route("/campaigns/<id:campaign_id>/members.csv")
@require_role("viewer")
def members_csv(campaign_id: str):
    _campaign_or_404(campaign_id)
    rows = shown("ui/campaign_members", campaign=campaign_id, skip=0, limit=10_000_000)
    out = io.StringIO()
    csv_export.write_rows(out, ["account_id", "org", "created_at", "score", "cohesion", "requests", "capabilities",
                                "label"],
                          ([r["account"], r["org"], r["created_at"], r["score"], r["cohesion"], r["requests"],
                            ";".join(r["capabilities"] or []), r["label"]] for r in rows))
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{_file_safe(campaign_id)}-members.csv"'})


def _file_safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100]


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
        url_for("investigate.account", account_id=subject_id)
    return redirect(target)


MAX_SEEDS = 5_000
MAX_TOP = 500  # leads returned at most


def _seeds_from(text: str) -> list[str]:
    return list(dict.fromkeys(s.strip() for s in text.replace(",", "\n").splitlines() if s.strip()))


@bp.route("/investigate", methods=["GET", "POST"])
@bp.route("/api/investigate", methods=["POST"], endpoint="investigate_json")
@require_role("analyst")
def seeded():
    """Known-bad accounts in, the accounts most linked to them out, each with its evidence path."""
    from graph.detect import seeded as seeded_search

    as_json = json_view()
    if as_json:
        body = params.json_object()
        seeds = params.to_text_list(body.get("seeds", []), "seeds", MAX_SEEDS)
    else:
        body = request.form
        seeds = _seeds_from(params.to_text(body.get("seeds", ""), "seeds", max_len=MAX_SEEDS * 200))
    top = params.to_int(body.get("top") or 50, "top", 1, MAX_TOP)
    leads, error = [], None
    if request.method == "POST":
        if not seeds:
            error = "paste at least one account id"
        elif len(seeds) > MAX_SEEDS:
            error = f"at most {MAX_SEEDS:,} seed accounts at a time"
        else:
            try:
                leads = [{"account": lead.account_id, "score": lead.score, "path": lead.path}
                         for lead in seeded_search.rank(seeds, top=top)]
            except LinkwatchError as exc:
                error = str(exc)
            else:
                # the statements rank() ran (its PageRank step is a GDS call, not a saved query)
                note("detect/account_nodes", account_ids=seeds)
                if leads:
                    note("detect/evidence_paths", targets=[lead["account"] for lead in leads], seeds=seeds)
        audit.record("investigate.seeded", current_user.name, seeds=len(seeds), top=top, error=error)
    if as_json and error:
        return jsonify(error=error), 400
    if as_json:
        return respond("investigate.html", True, seeds=seeds, top=top, leads=leads)
    return respond("investigate.html", False, seeds="\n".join(seeds), top=top, leads=leads, error=error)
