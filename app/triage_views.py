"""The home page: the triage queue — flagged campaigns that still need a decision, highest score first.

Each row says what changed since the run before (new, grown or shrunk by N accounts, merged with or split from
another campaign), the campaign's size, requests and top evidence line, and its case status and assignee.
Campaign facts are read once per detection run (app/runcache.py); cases are read on every request.
"""
from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from app import params
from app.auth import require_role
from app.pages import cached_per_run, parse_json_field, render_page, run_shown
from graph import cases

bp = Blueprint("triage", __name__)

PAGE_SIZE = 50
MAX_SCORE = 100.0  # campaign scores are 0-100
OPEN_STATUSES = tuple(s for s in cases.STATUSES if s not in cases.DECIDED)
LINEAGE_EVENTS = ("new", "grown", "shrunk", "merged", "split", "unchanged")


def change_since_previous_run(row: dict) -> str:
    """What the latest run recorded about the campaign, in words ("new", "grown by 70", "merged with cmp-…")."""
    event, related, before = row.get("event"), row.get("related") or [], row.get("previous_size")
    if event in ("grown", "shrunk") and before is not None and row.get("size") is not None:
        return f"{event} by {abs(row['size'] - before):,}"
    if event == "merged" and related:
        return "merged with " + ", ".join(related)
    if event == "split" and related:
        return "split from " + ", ".join(related)
    return event or "not recorded"


def _queue_rows(min_score: float) -> list[dict]:
    def compute():
        rows = run_shown("ui/triage_queue", min_score=min_score)
        for row in rows:
            row["capabilities"] = parse_json_field(row.pop("accounting"), {}).get("capabilities", {})
            row["change"] = change_since_previous_run(row)
        return rows

    return cached_per_run(("triage", min_score), compute)


def warm() -> list[str]:
    """Cache the queue's campaign rows for the current run; returns the flagged campaign ids, highest score first."""
    return [row["campaign_id"] for row in _queue_rows(0.0)]


@bp.route("/")
@bp.route("/api/triage", endpoint="queue_json")
@require_role("viewer")
def queue():
    filters = {
        "min_score": params.float_arg("min_score", 0.0, 0.0, MAX_SCORE),
        "status": params.text_arg("status").strip(),
        "lineage": params.text_arg("lineage").strip(),
        "assignee": params.text_arg("assignee").strip(),
        "capability": params.text_arg("capability").strip().lower(),
    }
    cases_by_id = {c["campaign_id"]: c for c in run_shown("ui/campaign_cases")}
    rows = []
    for row in _queue_rows(filters["min_score"]):
        case = cases_by_id.get(row["campaign_id"], {})
        status = case.get("status") or "new"
        if status in cases.DECIDED:
            continue
        rows.append({**row, "case_status": status, "assignee": case.get("assignee")})
    if filters["status"]:
        rows = [r for r in rows if r["case_status"] == filters["status"]]
    if filters["lineage"]:
        rows = [r for r in rows if r["event"] == filters["lineage"]]
    if filters["assignee"] == "me":
        rows = [r for r in rows if r["assignee"] == current_user.name]
    elif filters["assignee"] == "nobody":
        rows = [r for r in rows if not r["assignee"]]
    elif filters["assignee"]:
        rows = [r for r in rows if r["assignee"] == filters["assignee"]]
    if filters["capability"]:
        rows = [r for r in rows if filters["capability"] in r["capabilities"]]
    page = params.page_arg()
    latest = run_shown("ui/latest_run")
    return render_page("triage.html", campaigns=rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE], total=len(rows),
                       page=page, pages=max(1, -(-len(rows) // PAGE_SIZE)), filters=filters,
                       run=latest[0] if latest else None, open_statuses=OPEN_STATUSES, lineage_events=LINEAGE_EVENTS)
