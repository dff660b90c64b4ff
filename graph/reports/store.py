"""(:Report) nodes: every report written, and every scheduled attempt that failed."""
from __future__ import annotations

import json
import secrets
from datetime import datetime, timezone

from graph import db
from graph.reports.compare import iso

TRIGGERS = ("cli", "schedule", "web")  # who asked: the command, the scheduler, the web UI


def new_report_id(now: datetime) -> str:
    return f"rep-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def save(report: dict, formats: list[str], path: str) -> None:
    """Record a written report, linked to the runs it compares."""
    since = report["since_run"]
    db.run("reports/save", report_id=report["report_id"], created_at=report["created_at"],
           run_id=report["latest_run"]["run_id"], since_run_id=since["run_id"] if since else None,
           formats=formats, path=path, summary=json.dumps(report["summary"]), trigger=report["trigger"])


def record_failure(error: str, trigger: str) -> str:
    """Record a report that could not be produced; returns its id."""
    now = datetime.now(timezone.utc)
    report_id = new_report_id(now)
    db.run("reports/save_failure", report_id=report_id, created_at=iso(now), error=error, trigger=trigger)
    return report_id


def _plain(node: dict) -> dict:
    """A Report node as plain data: ISO time, the summary as a dict, every field present."""
    return {
        "report_id": node["report_id"], "created_at": iso(node.get("created_at")), "status": node.get("status"),
        "trigger": node.get("trigger"), "run_id": node.get("run_id"), "since_run_id": node.get("since_run_id"),
        "formats": list(node.get("formats") or []), "path": node.get("path"),
        "summary": json.loads(node["summary"]) if node.get("summary") else {}, "error": node.get("error"),
    }


def list_reports(limit: int = 50) -> list[dict]:
    """The most recent reports, newest first."""
    return [_plain(row["report"]) for row in db.run("reports/list", limit=limit)]


def get_report(report_id: str) -> dict | None:
    rows = db.run("reports/get", report_id=report_id)
    return _plain(rows[0]["report"]) if rows else None
