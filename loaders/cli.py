"""`linkwatch load`: read bundles and IP intelligence files into Neo4j."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from graph.errors import LinkwatchError
from loaders.formats import EXTERNAL_FORMATS
from graph.config import setting
from loaders.spec import EXIT_REJECTED


def _load(args: argparse.Namespace) -> int:
    from loaders.pipeline import LoadOptions, load

    if args.mapping is not None and args.format != "bundle":
        raise LinkwatchError("--mapping and --format cannot be combined: a mapping reads CSV, JSONL or Parquet exports")
    if args.batch_size < 1 or args.top_ips < 1:
        raise LinkwatchError("--batch-size and --top-ips must be at least 1")
    options = LoadOptions(fmt=args.format, mapping=args.mapping, strict=args.strict, rejects_path=args.rejects,
                          prefer=args.prefer, batch_size=args.batch_size, top_ips=args.top_ips,
                          progress=not args.quiet, bulk=args.bulk)
    try:
        summary = load(args.paths, options)
    except duckdb.Error as exc:
        raise LinkwatchError(f"DuckDB failed while loading: {str(exc).splitlines()[0]}") from exc
    for warning in summary.log.warnings:
        print(f"linkwatch: warning: {warning}", file=sys.stderr)
    print("\n".join(summary.lines()))
    return EXIT_REJECTED if summary.log.any else 0


def register(sub: argparse._SubParsersAction) -> None:
    load = sub.add_parser(
        "load",
        help="validate and load a bundle (or IP intel / mapped exports) into Neo4j",
        description="Load bundle folders or table files into Neo4j. Rejected rows go to the rejects file; "
                    f"the exit code is {EXIT_REJECTED} when anything was rejected (see docs/data-format.md).",
    )
    load.add_argument("paths", nargs="+", type=Path, metavar="DIR|FILE")
    load.add_argument("--format", default="bundle", choices=("bundle", *EXTERNAL_FORMATS),
                      help="bundle tables (default), MaxMind GeoLite2 ASN CSV, GeoLite2 Country/City CSVs (blocks + "
                           "locations), IP2Proxy CSV (PX1-PX12, IPv4 or IPv6) or Tor's exit list (bulk or exit-addresses)")
    load.add_argument("--mapping", type=Path, metavar="M", help="TOML mapping that turns an arbitrary export into a bundle table")
    load.add_argument("--strict", action="store_true", help="write nothing at all if any row or file is rejected")
    load.add_argument("--rejects", type=Path, default=None, metavar="PATH",
                      help="where rejected rows are listed (default: a new file under LINKWATCH_HOME/rejects/, "
                           "named by the time of the load)")
    load.add_argument("--prefer", choices=("last", "first"), default="last",
                      help="which row wins when rows of one account, label or network disagree: the later "
                           "file on the command line (then the later line), or the earlier (default: last)")
    load.add_argument("--batch-size", type=int, default=int(setting("LINKWATCH_LOAD_BATCH_SIZE")),
                      help="rows per Neo4j transaction (LINKWATCH_LOAD_BATCH_SIZE)")
    load.add_argument("--top-ips", type=int, default=int(setting("LINKWATCH_LOAD_TOP_IPS")),
                      help="USED_IP relationships kept per account (LINKWATCH_LOAD_TOP_IPS)")
    load.add_argument("--bulk", choices=("auto", "always", "never"), default="auto",
                      help="first load into an empty managed database by neo4j-admin database import (stops and "
                           "restarts the server): auto = when it has at least LINKWATCH_LOAD_BULK_MIN_ROWS rows "
                           "to write (default), always, never")
    load.add_argument("--quiet", action="store_true", help="no progress bars")
    load.set_defaults(handler=_load)
