"""Campaign pages: the campaigns list with filters, and a campaign's detail (evidence, accounting, network,
members, CSV export) beside its case."""
from __future__ import annotations

import io
import re

from flask import Blueprint, Response, abort, render_template, url_for
from markupsafe import Markup

from app import graphview, params, timeline
from app.auth import require_role
from app.pages import (cached_per_run, identifier_url, is_json_twin, parse_json_field, render_page, run_shown,
                       show_cypher)
from graph import cases, csv_export
from graph.config import setting
from graph.errors import LinkwatchError

bp = Blueprint("campaigns", __name__)

PAGE_SIZE = 50
MEMBER_PAGE_SIZE = 100
NETWORK_MEMBERS = 150  # members drawn in the network view (highest scores); the table lists all of them
NETWORK_SHARED = 60
SORT_KEYS = ("score", "size", "requests", "first_activity", "last_activity", "campaign_id")
MAX_SCORE = 100.0  # campaign scores are 0-100


def _campaign_rows(filters: dict) -> list[dict]:
    def compute():
        rows = run_shown("ui/campaigns", **filters)
        for row in rows:
            row["accounting"] = parse_json_field(row["accounting"], {})
            row["capabilities"] = row["accounting"].get("capabilities", {})
        return rows

    return cached_per_run(("campaigns", *sorted(filters.items())), compute)


@bp.route("/campaigns")
@bp.route("/api/campaigns", endpoint="dashboard_json")
@require_role("viewer")
def dashboard():
    filters = {
        "min_score": params.float_arg("min_score", 0.0, 0.0, MAX_SCORE),
        "flagged_only": params.flag_arg("flagged", True),
        "active_only": params.flag_arg("active", True),
    }
    cases_by_id = {c["campaign_id"]: c for c in run_shown("ui/campaign_cases")}
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
    return render_page("campaigns.html", campaigns=shown_rows, total=len(rows), page=page,
                   pages=max(1, -(-len(rows) // PAGE_SIZE)), sort=sort, order="desc" if descending else "asc",
                   filters={**filters, "capability": capability, "status": status, "lineage": lineage},
                   statuses=cases.STATUSES)


def _campaign_or_404(campaign_id: str) -> dict:
    """The campaign's facts and lineage history (per run; its case is read separately)."""
    def compute():
        rows = run_shown("ui/campaign", campaign=campaign_id)
        if not rows:
            return None
        campaign = rows[0]["campaign"]
        campaign["accounting"] = parse_json_field(campaign.get("accounting"), {})
        campaign["contributions"] = parse_json_field(campaign.get("contributions"), {})
        return {"campaign": campaign, "history": rows[0]["history"]}

    found = cached_per_run(("campaign", campaign_id), compute)
    if found is None:
        abort(404)
    return found


def _drawing(campaign_id: str) -> dict:
    """The network view: the highest-scoring members, what at least two of them share, and the pyvis data."""
    top = run_shown("ui/campaign_members", campaign=campaign_id, skip=0, limit=NETWORK_MEMBERS)
    shared = run_shown("ui/campaign_shared", members=[m["account"] for m in top], limit=NETWORK_SHARED)
    return {"drawn": len(top), "shared": shared, "network": _network(top, shared)}


def _network(members: list[dict], shared: list[dict]) -> dict:
    """The drawn part of a campaign: what its highest-scoring members share as hubs, the members around them
    (grouped when the picture would pass LINKWATCH_WEB_NETWORK_MAX_NODES nodes)."""
    return graphview.hub_network(members, shared, max_nodes=int(setting("LINKWATCH_WEB_NETWORK_MAX_NODES")),
                                 link=_page_of)


URL_KINDS = {"PaymentMethod": "payment", "IP": "ip", "Device": "device", "Email": "email", "Phone": "phone",
             "ApiKey": "api_key", "ProxyNetwork": "proxy_network", "ASN": "asn", "PromptTemplate": "template"}


def _page_of(label: str, value: str) -> str:
    if label == "Account":
        return url_for("accounts.account", account_id=value)
    return identifier_url(URL_KINDS.get(label, "identifier"), value)


def _charts(campaign_id: str) -> dict:
    """Accounts created, requests and the model mix per day, and the timeline drawn from them (app/timeline.py)."""
    creation = run_shown("ui/campaign_creation", campaign=campaign_id)
    activity = run_shown("ui/campaign_activity", campaign=campaign_id)
    model_days = run_shown("ui/campaign_model_days", campaign=campaign_id)
    return {"creation": creation, "activity": activity, "model_days": model_days,
            "timeline": timeline.build(creation, activity, model_days)}


def run_parts(campaign_id: str, page: int = 1) -> dict:
    """What a campaign page shows about the current run, each part computed once per run (app/runcache.py)."""
    found = _campaign_or_404(campaign_id)
    members = cached_per_run(("members", campaign_id, page), lambda: run_shown(
        "ui/campaign_members", campaign=campaign_id, skip=(page - 1) * MEMBER_PAGE_SIZE, limit=MEMBER_PAGE_SIZE + 1))
    drawing = cached_per_run(("drawing", campaign_id), lambda: _drawing(campaign_id))
    charts = cached_per_run(("charts", campaign_id), lambda: _charts(campaign_id))
    return {**found, **drawing, **charts, "members": members[:MEMBER_PAGE_SIZE], "page": page,
            "more": len(members) > MEMBER_PAGE_SIZE}


def rendered_run_part(campaign_id: str, per_run: dict, page: int = 1) -> Markup:
    """The page's run-dependent middle (evidence, charts, network, members), rendered once per run and page."""
    return cached_per_run(("campaign.html", campaign_id, page),
                          lambda: Markup(render_template("_campaign_run.html", **per_run)))


def warm(campaign_id: str) -> None:
    """Compute and cache everything a first view of the campaign page needs from the current run."""
    per_run = run_parts(campaign_id)
    rendered_run_part(campaign_id, per_run)
    _acting_on(campaign_id)


@bp.route("/campaigns/<id:campaign_id>")
@bp.route("/api/campaigns/<id:campaign_id>", endpoint="campaign_json")
@require_role("viewer")
def campaign(campaign_id: str):
    page = params.page_arg()
    per_run = run_parts(campaign_id, page)
    case = cases.get("campaign", campaign_id)
    live = {"case": case["case"], "notes": case["notes"], "case_history": case["history"], "statuses": cases.STATUSES,
            "decision": _decision_beside_now(campaign_id, per_run["campaign"]),
            **_acting_on(campaign_id)}
    if is_json_twin():
        return render_page("campaign.html", **per_run, **live)
    return render_page("campaign.html", **per_run, **live, run_part=rendered_run_part(campaign_id, per_run, page))


def _acting_on(campaign_id: str) -> dict:
    """What the campaign page and its JSON twin show besides detection's own facts.

    Chokepoints and related campaigns change only with a detection run (cached per run); partner
    corroboration changes with every import, so it is read each time.
    """
    from graph.act import chokepoints, indicators, related

    def plan():
        try:
            return chokepoints.plan(campaign_id)
        except LinkwatchError as exc:
            return {"error": str(exc)}

    show_cypher("act/chokepoint_candidates", campaign=campaign_id)
    show_cypher("act/campaign_related", campaign=campaign_id)
    show_cypher("act/campaign_things", campaign=campaign_id)
    return {"chokepoints": cached_per_run(("act-chokepoints", campaign_id), plan),
            "related": cached_per_run(("act-related", campaign_id), lambda: related.related_to(campaign_id)["related"]),
            "corroborated_by": indicators.corroboration(campaign_id)}


def _decision_beside_now(campaign_id: str, campaign: dict) -> dict | None:
    """The latest decision's snapshot beside the campaign as the current run describes it (None: undecided).

    ``now`` holds the current size, score and run, and how many accounts joined or left since the decision.
    """
    show_cypher("ui/case_decisions", campaign=campaign_id)
    decisions = cases.decisions(campaign_id)
    if not decisions:
        return None
    latest = decisions[0]
    then = set(cases.decision_accounts(campaign_id, latest["decision_id"])["account_ids"])
    members_now = cached_per_run(("member_ids", campaign_id), lambda: frozenset(
        run_shown("ui/campaign_member_ids", campaign=campaign_id)[0]["account_ids"]))
    now = {"run_id": campaign.get("last_run"), "size": campaign.get("size"), "score": campaign.get("score"),
           "joined": len(members_now - then), "left": len(then - members_now)}
    return {**latest, "now": now, "changed": bool(now["run_id"] != latest["run_id"] or now["joined"] or now["left"]),
            "earlier": decisions[1:]}


@bp.route("/campaigns/<id:campaign_id>/members.csv")
@require_role("viewer")
def members_csv(campaign_id: str):
    _campaign_or_404(campaign_id)
    rows = run_shown("ui/campaign_members", campaign=campaign_id, skip=0, limit=10_000_000)
    out = io.StringIO()
    csv_export.write_rows(out, ["account_id", "org", "created_at", "score", "cohesion", "requests", "capabilities",
                                "label"],
                          ([r["account"], r["org"], r["created_at"], r["score"], r["cohesion"], r["requests"],
                            ";".join(r["capabilities"] or []), r["label"]] for r in rows))
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{_file_safe(campaign_id)}-members.csv"'})


def _file_safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100]
