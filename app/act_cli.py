"""``linkwatch chokepoints`` and ``linkwatch indicators``: acting on a campaign and sharing with partners."""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHOKEPOINT_COLUMNS = ["kind", "value", "accounts", "requests", "collateral_accounts", "collateral_requests"]


def csv_cell(value) -> str:
    """A CSV cell a spreadsheet shows as text: a leading = + - @ TAB or CR is prefixed with ' (formula injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def write_chokepoints_csv(result: dict, out) -> None:
    writer = csv.writer(out)
    writer.writerow(CHOKEPOINT_COLUMNS)
    for row in result["identifiers"]:
        writer.writerow([csv_cell(row[c]) for c in CHOKEPOINT_COLUMNS])


def _chokepoints(args: argparse.Namespace) -> int:
    from graph.act import chokepoints

    result = chokepoints.plan(args.campaign_id, args.target)
    if args.format == "json":
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        write_chokepoints_csv(result, sys.stdout)
        print(f"covered {result['covered_accounts']:.1%} of the accounts and {result['covered_requests']:.1%} "
              f"of the requests (target {result['target']:.0%})", file=sys.stderr)
    return 0


def _indicators_import(args: argparse.Namespace) -> int:
    from graph.act import indicators

    summary = indicators.import_file(args.file, args.source, args.tlp)
    print(f"imported {summary['indicators']} indicator(s) from {args.file} as source {summary['source']!r} "
          f"(TLP:{summary['tlp'].upper()}; {summary['new']} new, {summary['indicators'] - summary['new']} already known, "
          f"{summary['skipped']} skipped: other pattern languages or observables)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    choke = sub.add_parser("chokepoints", help="what to block to stop a campaign, and the collateral of each block")
    choke.add_argument("campaign_id")
    choke.add_argument("--target", default=None, metavar="SHARE",
                       help="share of the campaign's accounts and requests to cover (default "
                            "LINKWATCH_CHOKEPOINT_TARGET, 0.95)")
    choke.add_argument("--format", choices=["csv", "json"], default="csv")
    choke.set_defaults(handler=_chokepoints)

    indicators = sub.add_parser("indicators", help="partner threat intelligence (STIX 2.1)")
    actions = indicators.add_subparsers(dest="action", required=True, metavar="ACTION")
    imp = actions.add_parser("import", help="import a partner's STIX 2.1 bundle (validated in full before writing)")
    imp.add_argument("file", type=Path, metavar="FILE.json")
    imp.add_argument("--source", required=True, metavar="NAME", help="who shared the bundle (shown as evidence)")
    imp.add_argument("--tlp", default=None, choices=["clear", "white", "green", "amber", "amber+strict", "red"],
                     help="TLP to store when the bundle's own marking is absent or less strict")
    imp.set_defaults(handler=_indicators_import)
