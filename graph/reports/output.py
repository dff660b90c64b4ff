"""Report files: self-contained HTML, JSON, CSV and STIX, written into a folder that appears whole or not at all."""
from __future__ import annotations

import json
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from graph import csv_export
from graph.errors import LinkwatchError

FILES = {"html": "report.html", "json": "report.json", "csv": "campaigns.csv", "stix": "indicators.stix.json"}
CSV_COLUMNS = ["campaign_id", "event", "related", "score", "score_before", "flagged", "size", "size_before",
               "requests", "first_activity", "last_activity", "requests_per_account", "top_capabilities"]
_templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def _number(value) -> str:
    """Thousands separators; one decimal only when there is a fraction; a dash for nothing."""
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{value:,.0f}"


_templates.filters["num"] = _number


def check_target(out: Path) -> None:
    """Fail before any work when ``out`` cannot receive a report (an existing non-empty folder, a file)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise LinkwatchError(f"{out}: already exists and is not an empty folder; choose another --out")


@contextmanager
def staging(out: Path):
    """A temporary sibling folder that becomes ``out`` when the block succeeds and vanishes when it fails.

    The rename is atomic on one file system, so a crash never leaves a half-written report under ``out``.
    """
    check_target(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        temp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
        temp.mkdir()
    except OSError as exc:
        raise LinkwatchError(f"{out.parent}: cannot create the report folder ({exc.strerror})") from exc
    try:
        yield temp
        os.replace(temp, out)  # replaces an empty folder too
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


def html(report: dict, charts: dict[str, str]) -> str:
    return _templates.get_template("report.html").render(report=report, charts=charts)


def json_text(report: dict) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def stix_text(bundle) -> str:
    """The bundle indented. stix2's own ``serialize(pretty=True)`` took 188 s for 1,650 objects (demo world);
    re-indenting its compact form keeps the property order and takes well under a second."""
    return json.dumps(json.loads(bundle.serialize()), indent=2, ensure_ascii=False) + "\n"


def write_csv(path: Path, rows: list[dict]) -> None:
    """campaigns.csv, through the one CSV writer that neutralises formula cells (graph/csv_export.py)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv_export.write_dicts(handle, CSV_COLUMNS, ({**row, "related": " ".join(row["related"]),
                                                      "flagged": str(row["flagged"]).lower()} for row in rows))
