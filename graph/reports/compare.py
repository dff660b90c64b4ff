"""What changed between two detection runs: which runs to compare, composed lineage events, report data.

Each detection run records its own events against the run just before it (graph/detect/lineage.py). A report
may span several runs, so the events are composed: a campaign found by the latest run and by the earlier
("since") run compares its sizes in the two runs' FOUND edges (grown / shrunk / unchanged), unless a run in
between recorded that it absorbed other campaigns (merged); one found only by the latest run is ``new``, or
``split`` when a run in between recorded it as split off another; one found only by the since-run has
``ended``. Merges, splits and ends recorded by the runs strictly between the two are listed as they happened.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from graph import db
from graph.act import chokepoints
from graph.errors import LinkwatchError

# Order of events in summaries and tables: what needs attention first.
EVENTS = ("new", "grown", "merged", "split", "shrunk", "ended", "unchanged")
CHART_CAMPAIGNS = 6  # campaigns drawn in each chart (the top ones): more lines are unreadable
HISTORY_RUNS = 30  # runs shown in the growth chart
NO_RUN = "no detection run yet: run `linkwatch detect` first"
_DURATION = re.compile(r"^(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class Record:
    """One FOUND or ENDED edge of a run (size and score are None for ENDED)."""

    run_id: str
    campaign_id: str
    event: str
    related: tuple[str, ...] = ()
    size: int | None = None
    score: float | None = None


@dataclass
class Change:
    """What happened to one campaign between the since-run (before) and the latest run (after)."""

    campaign_id: str
    event: str
    related: list[str] = field(default_factory=list)
    size_before: int | None = None
    size: int | None = None
    score_before: float | None = None
    score: float | None = None


def iso(value) -> str | None:
    """A Neo4j or Python datetime as ISO-8601 UTC with a Z suffix (the project's timestamp format)."""
    if value is None:
        return None
    native = value.to_native() if hasattr(value, "to_native") else value
    return native.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse_duration(text: str) -> timedelta | None:
    """``90m``, ``24h``, ``7d``, ``2w`` as a timedelta; None when the text is not a duration."""
    match = _DURATION.match(text.strip().lower())
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))}) if match else None


def select_runs(runs: list[dict], since: str | None) -> tuple[dict, dict | None]:
    """The latest run and the one to compare it with (None when there is only one run).

    ``runs`` are newest first. ``since``: None (the run just before the latest), a run id, or a duration
    (the newest run that started at least that long before the latest one).
    """
    if not runs:
        raise LinkwatchError(NO_RUN)
    latest, earlier = runs[0], runs[1:]
    if since is None:
        return latest, earlier[0] if earlier else None
    since = since.strip()
    if since.startswith("run-"):
        if since == latest["run_id"]:
            raise LinkwatchError(f"--since {since} is the latest run itself; give an earlier run or a duration like 7d")
        match = next((run for run in earlier if run["run_id"] == since), None)
        if match is None:
            raise LinkwatchError(f"--since {since}: no such detection run (the latest is {latest['run_id']})")
        return latest, match
    delta = parse_duration(since)
    if delta is None:
        raise LinkwatchError(f"--since {since!r} is neither a run id (run-…) nor a duration like 24h, 7d or 2w")
    cutoff = latest["started_at"] - delta
    match = next((run for run in earlier if run["started_at"] <= cutoff), None)
    if match is None:
        oldest = runs[-1]
        raise LinkwatchError(f"--since {since}: no detection run started {since} or more before the latest run "
                             f"({latest['run_id']}, {iso(latest['started_at'])}); the oldest run started "
                             f"{iso(oldest['started_at'])}")
    return latest, match


def compose(before: dict[str, Record] | None, after: dict[str, Record], span: list[Record]) -> list[Change]:
    """Events between two runs from their FOUND records and the records of the runs after ``before``.

    ``before`` / ``after``: the since-run's and the latest run's FOUND records by campaign id (``before`` is
    None when the latest run is the only one: everything is new). ``span``: every record of the runs after the
    since-run up to and including the latest one, oldest first.
    """
    if before is None:
        return [Change(cid, "new", [], None, r.size, None, r.score) for cid, r in after.items()]
    merged: dict[str, set[str]] = {}
    split_from: dict[str, list[str]] = {}
    absorbed_by: dict[str, list[str]] = {}
    for record in span:
        if record.event == "merged":
            merged.setdefault(record.campaign_id, set()).update(record.related)
        elif record.event == "split":
            split_from.setdefault(record.campaign_id, list(record.related))
        elif record.event == "ended":
            absorbed_by[record.campaign_id] = list(record.related)
    changes = []
    for cid, now in after.items():
        old = before.get(cid)
        if old is None:
            event, related = ("split", split_from[cid]) if cid in split_from else ("new", [])
            changes.append(Change(cid, event, related, None, now.size, None, now.score))
            continue
        if cid in merged:
            event = "merged"
        else:
            event = "grown" if now.size > old.size else "shrunk" if now.size < old.size else "unchanged"
        changes.append(Change(cid, event, sorted(merged.get(cid, ())), old.size, now.size, old.score, now.score))
    for cid, old in before.items():
        if cid not in after:
            changes.append(Change(cid, "ended", absorbed_by.get(cid, []), old.size, None, old.score, None))
    return changes


def summarize(changes: list[Change]) -> dict[str, int]:
    """Count per event, every event listed (zeros included) in EVENTS order."""
    return {event: sum(c.event == event for c in changes) for event in EVENTS}


def _run_header(run: dict | None) -> dict | None:
    if run is None:
        return None
    return {**run, "started_at": iso(run["started_at"]), "finished_at": iso(run["finished_at"])}


def _records(rows: list[dict]) -> list[Record]:
    return [Record(r["run_id"], r["campaign_id"], r["event"], tuple(r["related"]), r["size"], r["score"]) for r in rows]


def campaign_details(campaign_ids: list[str]) -> dict[str, dict]:
    """Stored evidence, accounting and flag of each campaign, by id."""
    details = {}
    for row in db.run("reports/campaigns", campaign_ids=campaign_ids):
        accounting = json.loads(row["accounting"]) if row["accounting"] else {}
        details[row["campaign_id"]] = {**row, "accounting": accounting, "evidence": list(row["evidence"] or [])}
    return details


def _chart_data(campaign_ids: list[str]) -> dict:
    """Data behind the three charts for the given campaigns (JSON-ready)."""
    growth: dict[str, list[dict]] = {cid: [] for cid in campaign_ids}
    history = db.run("reports/history", campaign_ids=campaign_ids)
    shown_runs = list(dict.fromkeys(r["run_id"] for r in history))[-HISTORY_RUNS:]
    for row in history:
        if row["run_id"] in shown_runs:
            growth[row["campaign_id"]].append({"run_id": row["run_id"], "started_at": iso(row["started_at"]),
                                               "size": row["size"], "score": row["score"]})
    activity: dict[str, list[dict]] = {cid: [] for cid in campaign_ids}
    for row in db.run("reports/activity", campaign_ids=campaign_ids):
        activity[row["campaign_id"]].append({"day": row["day"], "requests": row["requests"]})
    capabilities: dict[str, dict[str, int]] = {cid: {} for cid in campaign_ids}
    for row in db.run("reports/capabilities", campaign_ids=campaign_ids):
        capabilities[row["campaign_id"]][row["capability"]] = row["requests"]
    return {"growth": growth, "activity": activity, "capabilities": capabilities}


def _top_capabilities(accounting: dict) -> str:
    return "; ".join(f"{name} {share:.0%}" for name, share in (accounting.get("capabilities") or {}).items())


def collect(since: str | None = None, top: int = 20) -> dict:
    """Everything a report shows, as JSON-ready data (no images)."""
    runs = db.run("reports/runs")
    latest, since_run = select_runs(runs, since)
    ids_newest_first = [r["run_id"] for r in runs]
    cut = ids_newest_first.index(since_run["run_id"]) if since_run else len(runs)
    span_ids = list(reversed(ids_newest_first[:cut]))  # runs after the since-run up to the latest, oldest first
    records = _records(db.run("reports/lineage", run_ids=span_ids + ([since_run["run_id"]] if since_run else [])))
    span = [r for r in records if r.run_id in span_ids]
    after = {r.campaign_id: r for r in records if r.run_id == latest["run_id"] and r.event != "ended"}
    before = ({r.campaign_id: r for r in records if r.run_id == since_run["run_id"] and r.event != "ended"}
              if since_run else None)
    changes = sorted(compose(before, after, span), key=lambda c: (EVENTS.index(c.event), -(c.score or 0), c.campaign_id))
    details = campaign_details([c.campaign_id for c in changes])
    rows = []
    for change in changes:
        detail = details[change.campaign_id]
        accounting = detail["accounting"]
        rows.append({
            "campaign_id": change.campaign_id, "event": change.event, "related": change.related,
            "score": change.score, "score_before": change.score_before, "flagged": bool(detail["flagged"]),
            "size": change.size, "size_before": change.size_before, "requests": accounting.get("requests"),
            "first_activity": accounting.get("first_activity"), "last_activity": accounting.get("last_activity"),
            "requests_per_account": accounting.get("requests_per_account"),
            "top_capabilities": _top_capabilities(accounting),
        })
    found = sorted((row for row in rows if row["event"] != "ended"),
                   key=lambda row: (-row["score"], -row["size"], row["campaign_id"]))
    top_rows = [{**row, "evidence": details[row["campaign_id"]]["evidence"],
                 "accounting": details[row["campaign_id"]]["accounting"]} for row in found[:top]]
    flagged = [row["campaign_id"] for row in found if row["flagged"]]
    # what to block: each flagged campaign's chokepoints at the default target (graph/act/chokepoints.py)
    plans = {cid: chokepoints.plan(cid) for cid in flagged}
    for row in top_rows:
        row["chokepoints"] = plans.get(row["campaign_id"])
    between_ids = set(span_ids) - {latest["run_id"]}
    between = [{"run_id": r.run_id, "campaign_id": r.campaign_id, "event": r.event, "related": list(r.related)}
               for r in span if r.run_id in between_ids and r.event in ("merged", "split", "ended")]
    return {
        "latest_run": _run_header(latest),
        "since_run": _run_header(since_run),
        "runs_between": len(between_ids),
        "only_run": len(runs) == 1,
        "summary": summarize(changes),
        "changes": rows,
        "between": between,
        "top": top_rows,
        "flagged": flagged,
        "chokepoints": plans,
        "charts": _chart_data([row["campaign_id"] for row in top_rows[:CHART_CAMPAIGNS]]),
    }
