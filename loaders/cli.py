"""`linkwatch load`: read bundles and IP intelligence files into Neo4j; `linkwatch aggregate`: request
features as Parquet (DuckDB or Spark), which `linkwatch load` then writes."""
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


def _aggregate(args: argparse.Namespace) -> int:
    from loaders.aggregate import AggregateOptions, is_url, run_aggregate

    if args.top_ips < 1:
        raise LinkwatchError("--top-ips must be at least 1")
    if args.engine != "spark" and (args.master or args.spark_conf):
        raise LinkwatchError("--master and --spark-conf apply to --engine spark only")
    conf = {}
    for item in args.spark_conf or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise LinkwatchError(f"--spark-conf {item!r}: expected KEY=VALUE (e.g. spark.executor.memory=4g)")
        conf[key.strip()] = value
    if args.engine != "spark" and args.stage:
        raise LinkwatchError("--stage applies to --engine spark only")
    paths = [p if is_url(p) else Path(p) for p in args.paths]
    options = AggregateOptions(engine=args.engine, master=args.master, spark_conf=conf, stage=args.stage,
                               strict=args.strict,
                               rejects_path=args.rejects, top_ips=args.top_ips, progress=not args.quiet)
    try:
        summary = run_aggregate(paths, args.out, options)
    except duckdb.Error as exc:
        raise LinkwatchError(f"DuckDB failed while aggregating: {str(exc).splitlines()[0]}") from exc
    except Exception as exc:  # a failing Spark job arrives as a Py4J error carrying the JVM's stack
        if type(exc).__module__.startswith(("py4j", "pyspark")):
            from loaders.spark_aggregate import java_message

            raise LinkwatchError(f"Spark failed while aggregating: {java_message(exc)}") from exc
        raise
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
    load.add_argument("paths", nargs="+", type=Path, metavar="DIR|FILE",
                      help="bundle folders, table files, or a FEATURES folder written by linkwatch aggregate "
                           "(its request features replace the requests of the other paths)")
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

    aggregate = sub.add_parser(
        "aggregate",
        help="validate requests and write their per-account features as Parquet (DuckDB or Spark)",
        description="Validate request files (as linkwatch load does) and aggregate them into the per-account "
                    "feature tables, written as Parquet with a manifest into FEATURES; `linkwatch load FEATURES` "
                    "then writes them to Neo4j. The ip_intel of the given bundles gives network and ASN usage. "
                    f"Exit code {EXIT_REJECTED} when anything was rejected (see docs/scaling.md).",
    )
    aggregate.add_argument("paths", nargs="+", metavar="REQUESTS",
                           help="bundle folders (their requests and ip_intel tables are read) or request files; "
                                "with --engine spark also URLs Spark reads (s3a://bucket/bundle/, hdfs://...)")
    aggregate.add_argument("--out", type=Path, required=True, metavar="FEATURES",
                           help="folder to write (a new or empty folder, or a features folder to replace)")
    aggregate.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                           help="duckdb (default, embedded) or spark (pip install 'linkwatch[spark]')")
    aggregate.add_argument("--master", default=None, metavar="URL",
                           help="Spark master, e.g. local[2] or spark://host:7077 (default LINKWATCH_SPARK_MASTER, "
                                "or the one spark-submit sets)")
    aggregate.add_argument("--spark-conf", action="append", metavar="KEY=VALUE",
                           help="a Spark setting (repeatable), e.g. spark.hadoop.fs.s3a.endpoint=...")
    aggregate.add_argument("--stage", default=None, metavar="URL",
                           help="Spark: a folder every executor can read (s3a://bucket/tmp/, hdfs://...) where the "
                                "validated requests are put for the cluster (default: a local temporary folder)")
    aggregate.add_argument("--strict", action="store_true", help="write no features if any row or file is rejected")
    aggregate.add_argument("--rejects", type=Path, default=None, metavar="PATH",
                           help="where rejected rows are listed (default: a new file under LINKWATCH_HOME/rejects/)")
    aggregate.add_argument("--top-ips", type=int, default=int(setting("LINKWATCH_LOAD_TOP_IPS")),
                           help="IPs (and ASNs) kept per account (LINKWATCH_LOAD_TOP_IPS)")
    aggregate.add_argument("--quiet", action="store_true", help="no progress bars")
    aggregate.set_defaults(handler=_aggregate)
