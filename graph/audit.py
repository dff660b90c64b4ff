"""The audit trail: who did what, when, stored in Neo4j as (:AuditEvent)."""
from __future__ import annotations

import json
from typing import Any

from graph import db


def record(action: str, user: str, subject: str | None = None, **details: Any) -> None:
    """Append one event about ``subject`` (e.g. ``campaign:cmp-1``); ``details`` are stored as JSON."""
    db.run("app/audit_record", action=action, user=user, subject=subject,
           details=json.dumps(details, default=str, sort_keys=True))


def recent(action: str | None = None, user: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Newest first."""
    rows = db.run("app/audit_recent", action=action, user=user, limit=limit)
    for row in rows:
        row["details"] = json.loads(row["details"])
    return rows
