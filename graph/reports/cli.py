"""``linkwatch report``: what changed since an earlier detection run (HTML, JSON, CSV, STIX 2.1)."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path


def _report(args: argparse.Namespace) -> int:
    from graph import reports

    # Reports read labels a fresh graph may not have yet (Report, COVERS): the server's warnings are noise.
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    result = reports.generate(out_dir=args.out, formats=reports.parse_formats(args.format), since=args.since,
                              top=args.top, trigger="cli")
    changes = ", ".join(f"{count} {event}" for event, count in result.summary.items() if count) or "no campaigns"
    print(f"report {result.report_id}: {changes}")
    for name in result.files:
        print(f"wrote {result.path / name}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser("report", help="what changed since an earlier detection run: HTML with charts, JSON, CSV, STIX 2.1",
                            description="Compare the latest detection run with an earlier one and write a report "
                                        "folder (docs/reports.md).")
    report.add_argument("--since", metavar="RUN_ID|DURATION",
                        help="the run to compare with: a run id (run-…) or a duration (24h, 7d, 2w: the newest run "
                             "that started at least that long before the latest); default: the run before the latest")
    report.add_argument("--out", type=Path, metavar="DIR",
                        help="report folder, new or empty (default: <LINKWATCH_HOME>/reports/<report id>/)")
    report.add_argument("--format", default="html,json,csv,stix", metavar="LIST",
                        help="comma-separated files to write: html, json, csv, stix (default: all four)")
    report.add_argument("--top", type=int, default=20, metavar="N", help="campaigns detailed, highest score first (default 20)")
    report.set_defaults(handler=_report)
