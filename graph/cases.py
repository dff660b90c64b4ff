"""Cases: an analyst's decision about a campaign or an account, with notes and an audit trail.

A case is ``(:Case {subject_kind, subject_id, status, assignee})-[:ABOUT]->(subject)`` with
``(:Note)`` children; every change is also an ``(:AuditEvent {subject: 'campaign:<id>'})``.

Moving a campaign's case to a decision (``DECIDED``) stores a ``(:Case)-[:DECIDED]->(:Decision)`` snapshot in
the same statement: run id, score, size, requests, evidence sentences, contributions and the member ids as the
current run describes them. Later runs change the campaign, never the snapshot; ``decisions`` reads them and
``decision_accounts`` lists the accounts one decision covered (the enforcement export).
"""
from __future__ import annotations

import json
from typing import Any

from graph import audit, db
from graph.errors import LinkwatchError

STATUSES = ("new", "triage", "confirmed", "dismissed")
DECIDED = ("confirmed", "dismissed")  # statuses that are a decision: the case leaves the triage queue
KINDS = ("campaign", "account")
MAX_NOTE_LENGTH = 10_000


class CaseError(LinkwatchError):
    """A case change that cannot be made (unknown subject, status, …)."""


def _subject(kind: str, subject_id: str) -> str:
    if kind not in KINDS:
        raise CaseError(f"cases are about a campaign or an account, not {kind!r}")
    return f"{kind}:{subject_id}"


def get(kind: str, subject_id: str) -> dict[str, Any]:
    """``{"case": {...} | None, "notes": [...], "history": [...]}``."""
    subject = _subject(kind, subject_id)
    row = db.run("ui/case_get", kind=kind, subject=subject_id)[0]
    history = [{**e, "details": json.loads(e["details"])} for e in db.run("ui/case_history", subject=subject)]
    return {"case": row["case"], "notes": row["notes"], "history": history}


def update(kind: str, subject_id: str, user: str, status: str | None = None, assignee: str | None = None) -> dict:
    """Set status and/or assignee (``assignee=''`` clears it); opens the case on first use."""
    subject = _subject(kind, subject_id)
    if status is not None and status not in STATUSES:
        raise CaseError(f"unknown status {status!r}; choose one of {', '.join(STATUSES)}")
    rows = db.run("ui/case_update", kind=kind, subject=subject_id, status=status, assignee=assignee, user=user,
                  decided=list(DECIDED))
    if not rows:
        raise CaseError(f"no {kind} {subject_id!r}")
    change = rows[0]
    audit.record("case.update", user, subject=subject,
                 status=[change["old_status"], change["status"]], assignee=[change["old_assignee"], change["assignee"]])
    return {"status": change["status"], "assignee": change["assignee"]}


def add_note(kind: str, subject_id: str, user: str, text: str) -> None:
    subject = _subject(kind, subject_id)
    text = text.strip()
    if not text:
        raise CaseError("a note needs some text")
    if len(text) > MAX_NOTE_LENGTH:
        raise CaseError(f"a note holds at most {MAX_NOTE_LENGTH:,} characters")
    if not db.run("ui/case_note", kind=kind, subject=subject_id, text=text, author=user):
        update(kind, subject_id, user)  # opens the case (or says the subject does not exist)
        db.run("ui/case_note", kind=kind, subject=subject_id, text=text, author=user)
    audit.record("case.note", user, subject=subject, text=text)


def decisions(campaign_id: str) -> list[dict[str, Any]]:
    """The decision snapshots of a campaign's case, newest first (without member ids; ``accounts`` counts them)."""
    rows = db.run("ui/case_decisions", campaign=campaign_id)
    for row in rows:
        try:
            row["contributions"] = json.loads(row["contributions"]) if row["contributions"] else {}
        except (TypeError, json.JSONDecodeError):
            row["contributions"] = {}
    return rows


def decision_accounts(campaign_id: str, decision_id: str) -> dict[str, Any] | None:
    """One decision with the account ids it covered, or None if the campaign's case has no such decision."""
    rows = db.run("ui/decision_accounts", campaign=campaign_id, decision=decision_id)
    return rows[0] if rows else None
