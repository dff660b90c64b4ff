"""The audit trail: who did what, when, stored in Neo4j as (:AuditEvent)."""
from __future__ import annotations

import json
from typing import Any

from graph import db


def record(action: str, user: str, **details: Any) -> None:
    """Append one event; ``details`` are stored as JSON so any shape is kept as given."""
    db.run("app/audit_record", action=action, user=user, details=json.dumps(details, default=str, sort_keys=True))


def recent(action: str | None = None, user: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Newest first."""
    rows = db.run("app/audit_recent", action=action, user=user, limit=limit)
    for row in rows:
        row["details"] = json.loads(row["details"])
    return rows
