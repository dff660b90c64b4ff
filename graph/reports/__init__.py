"""Reports: what changed since an earlier detection run, as HTML with charts, JSON, CSV and STIX 2.1.

The API the CLI, the scheduler and the web UI share::

    from graph import reports
    result = reports.generate(since="7d", trigger="schedule")   # ReportResult(report_id, path, files, summary)
    reports.record_failure("Neo4j is not reachable …", trigger="schedule")
    reports.list_reports(20); reports.get_report(result.report_id)

docs/reports.md describes the content of each file.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from graph.config import managed_paths
from graph.errors import LinkwatchError
from graph.reports import charts, compare, output, stix
from graph.reports.store import TRIGGERS, get_report, list_reports, new_report_id, record_failure, save

FORMATS = tuple(output.FILES)  # html, json, csv, stix

__all__ = ["FORMATS", "ReportFailed", "ReportResult", "generate", "get_report", "list_reports", "parse_formats",
           "record_failure"]
MAX_ERROR_CHARS = 300  # of an unexpected failure's message, kept on the failed (:Report) and shown to the user


class ReportFailed(LinkwatchError):
    """Writing a report failed for a reason no option could fix; it is recorded as a failed (:Report)."""

    def __init__(self, message: str, report_id: str | None):
        super().__init__(message)
        self.report_id = report_id


@dataclass(frozen=True)
class ReportResult:
    report_id: str
    path: Path  # the report's folder
    files: list[str]  # names of the files in it (report.html, …): plain data for JSON answers and deliveries
    summary: dict[str, int]  # campaigns per event


def parse_formats(formats) -> list[str]:
    """``"html,json"`` or an iterable of names as a list of known formats (order kept, duplicates dropped)."""
    names = formats.split(",") if isinstance(formats, str) else list(formats)
    names = [name.strip().lower() for name in names if name.strip()]
    unknown = [name for name in names if name not in FORMATS]
    if unknown:
        raise LinkwatchError(f"unknown report format {', '.join(map(repr, unknown))}: "
                             f"choose one or more of {','.join(FORMATS)}")
    if not names:
        raise LinkwatchError(f"no report format given: choose one or more of {','.join(FORMATS)}")
    return list(dict.fromkeys(names))


def generate(out_dir: Path | str | None = None, formats=FORMATS, since: str | None = None, top: int = 20,
             trigger: str = "cli") -> ReportResult:
    """Compare the latest detection run with an earlier one, write the report files, record a (:Report).

    ``out_dir``: the report folder (default ``<LINKWATCH_HOME>/reports/<report_id>/``; must not exist or be
    empty); ``since``: None (the run before the latest), a run id or a duration such as ``24h`` / ``7d``;
    ``top``: campaigns detailed, highest score first.
    """
    formats = parse_formats(formats)
    if top < 1:
        raise LinkwatchError(f"--top must be at least 1 (got {top})")
    if trigger not in TRIGGERS:
        raise LinkwatchError(f"unknown report trigger {trigger!r}; one of {', '.join(TRIGGERS)}")
    now = datetime.now(timezone.utc)
    report_id = new_report_id(now)
    out = Path(out_dir) if out_dir is not None else managed_paths().home / "reports" / report_id
    output.check_target(out)
    try:
        return _write(report_id, now, out, formats, since, top, trigger)
    except LinkwatchError:
        raise  # a clear message already (no detection run yet, an unknown --since, a folder in the way, …)
    except Exception as exc:  # noqa: BLE001 - whatever else breaks, the failure is recorded and told in one line
        raise _failed(exc, trigger) from exc


def _failed(exc: Exception, trigger: str) -> ReportFailed:
    error = " ".join(f"{type(exc).__name__}: {exc}".split())[:MAX_ERROR_CHARS]
    try:
        failed_id = record_failure(error, trigger=trigger)
    except Exception:  # noqa: BLE001 - e.g. Neo4j went away: still one clear line, without a record
        return ReportFailed(f"the report could not be written ({error}); it could not be recorded either", None)
    return ReportFailed(f"report {failed_id} failed and was recorded as failed: {error}", failed_id)


def _write(report_id: str, now: datetime, out: Path, formats: list[str], since: str | None, top: int,
           trigger: str) -> ReportResult:
    report = {"report_id": report_id, "created_at": compare.iso(now), "trigger": trigger,
              "files": [output.FILES[name] for name in formats], **compare.collect(since, top)}
    with output.staging(out) as folder:
        if "html" in formats:
            (folder / output.FILES["html"]).write_text(output.html(report, charts.render(report["charts"])), encoding="utf-8")
        if "json" in formats:
            (folder / output.FILES["json"]).write_text(output.json_text(report), encoding="utf-8")
        if "csv" in formats:
            output.write_csv(folder / output.FILES["csv"], report["changes"])
        if "stix" in formats:
            details = compare.campaign_details(report["flagged"])
            bundle = stix.build([details[cid] for cid in report["flagged"]], stix.indicator_rows(report["flagged"]),
                                compare.parse_time(report["latest_run"]["started_at"]), plans=report["chokepoints"])
            (folder / output.FILES["stix"]).write_text(output.stix_text(bundle), encoding="utf-8")
    save(report, formats, str(out))
    return ReportResult(report_id, out, report["files"], report["summary"])
