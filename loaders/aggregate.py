"""Aggregate raw API requests out of core with DuckDB into what the graph keeps.

Raw requests are never written row by row. From ``valid_requests`` this builds:

* ``account_usage``     one row per account: requests, tokens, active days, hour-of-day
                        profile and its entropy, capability and model mix, first/last request,
                        number of distinct IPs;
* ``account_ips``       the top-k IPs per account by request count (count, first/last seen);
* ``account_networks``  use of each proxy network over *all* the account's IPs, and
  ``account_asns``      use of its top-k ASNs (only when some ip_intel is known);
* ``account_templates`` and ``templates``: who sent which prompt template, and how often;
* ``account_models`` and ``models``: per account and model the requests per active UTC day and the first and
                        last request on it; per model its first request anywhere in the load.

Each output is one GROUP BY over the checked requests or over the (account, ip) pairs.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from graph.config import setting
from graph.errors import LinkwatchError
from loaders.ipintel import SEGMENT_COLUMNS, build_segments, matched_sql
from loaders.reading import read_sources
from loaders.rejects import RejectLog
from loaders.tables import create_raw_views, discover, sql_text
from loaders.validate import validate
from loaders.templates import build_prompt_templates

ISO = "'%Y-%m-%dT%H:%M:%S.%gZ'"


def iso(column: str) -> str:
    """SQL: a TIMESTAMPTZ as ISO-8601 UTC text with milliseconds, the form Cypher's datetime() reads."""
    return f"strftime({column}, {ISO})"


def _top(k: int, source: str, order: str) -> str:
    """SQL: the ``k`` rows per account of ``source`` that come first by ``order`` (ties broken by the order's last key)."""
    return f"SELECT * FROM {source} QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY {order}) <= {int(k)}"


def aggregate_requests(conn: duckdb.DuckDBPyConnection, top_ips: int, lsh_threshold: float, lsh_max_texts: int,
                       min_template_accounts: int,
                       have_intel: bool) -> None:
    """Create the tables listed in the module docstring from ``valid_requests``."""
    # (account, ip) pairs: with an IP rotated per request this is about one row per request
    conn.execute(
        "CREATE OR REPLACE TABLE account_ip_pairs AS SELECT account_id, ip, count(*) AS n, min(ts) AS first_seen, "
        "max(ts) AS last_seen FROM valid_requests WHERE ip IS NOT NULL GROUP BY account_id, ip")
    conn.execute(
        f"CREATE OR REPLACE TABLE account_ips AS SELECT account_id, ip, n, {iso('first_seen')} AS first_seen, "
        f"{iso('last_seen')} AS last_seen FROM ({_top(top_ips, 'account_ip_pairs', 'n DESC, ip')})")

    conn.execute(
        "CREATE OR REPLACE TABLE hour_counts AS SELECT account_id, hour(ts) AS hour, count(*) AS n, "
        "sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, min(ts) AS first_ts, max(ts) AS last_ts "
        "FROM valid_requests GROUP BY ALL")
    conn.execute(
        "CREATE OR REPLACE TABLE account_mix AS SELECT account_id, kind, list(name ORDER BY n DESC, name) AS names, "
        "list(n ORDER BY n DESC, name) AS counts FROM ("
        "  SELECT account_id, CASE WHEN GROUPING(model) = 0 THEN 'model' ELSE 'capability' END AS kind, "
        "  coalesce(model, capability) AS name, count(*) AS n FROM valid_requests "
        "  GROUP BY GROUPING SETS ((account_id, model), (account_id, capability)) "
        ") WHERE name IS NOT NULL GROUP BY ALL")
    # requests per UTC day: the activity timelines of accounts and campaigns
    conn.execute(
        "CREATE OR REPLACE TABLE account_days AS SELECT account_id, count(*) AS active_days, "
        "list(strftime(day, '%Y-%m-%d') ORDER BY day) AS activity_days, list(n ORDER BY day) AS activity_counts "
        "FROM (SELECT account_id, ts::DATE AS day, count(*) AS n FROM valid_requests GROUP BY ALL) GROUP BY account_id")
    # per (account, model): the day-level timeline and the first/last request; per model its first appearance
    conn.execute(
        "CREATE OR REPLACE TABLE account_model_days AS SELECT account_id, model, ts::DATE AS day, count(*) AS n, "
        "min(ts) AS first_ts, max(ts) AS last_ts FROM valid_requests WHERE model IS NOT NULL GROUP BY ALL")
    conn.execute(
        f"CREATE OR REPLACE TABLE account_models AS SELECT account_id, model, sum(n)::BIGINT AS requests, "
        f"{iso('min(first_ts)')} AS first_seen, {iso('max(last_ts)')} AS last_seen, "
        f"list(strftime(day, '%Y-%m-%d') ORDER BY day) AS days, list(n ORDER BY day)::BIGINT[] AS counts "
        f"FROM account_model_days GROUP BY account_id, model")
    conn.execute(
        f"CREATE OR REPLACE TABLE models AS SELECT model AS name, {iso('min(first_ts)')} AS first_seen "
        f"FROM account_model_days GROUP BY model")
    conn.execute("DROP TABLE account_model_days")
    conn.execute(
        "CREATE OR REPLACE TABLE account_usage AS "
        "WITH totals AS (SELECT account_id, sum(n) AS requests, sum(input_tokens) AS input_tokens, "
        "  sum(output_tokens) AS output_tokens, min(first_ts) AS first_ts, max(last_ts) AS last_ts, "
        "  list(n ORDER BY hour) AS hour_n, list(hour ORDER BY hour) AS hours, "
        "  -sum((n / t) * log2(n / t)) AS hour_entropy "
        "  FROM (SELECT *, sum(n) OVER (PARTITION BY account_id) AS t FROM hour_counts) GROUP BY account_id), "
        "ips AS (SELECT account_id, count(*) AS distinct_ips FROM account_ip_pairs GROUP BY account_id) "
        "SELECT t.account_id, t.requests::BIGINT AS requests, t.input_tokens::BIGINT AS input_tokens, "
        "  t.output_tokens::BIGINT AS output_tokens, d.active_days, d.activity_days, "
        "  d.activity_counts::BIGINT[] AS activity_counts, "
        "  list_transform(range(24), lambda h: coalesce(t.hour_n[list_position(t.hours, h)], 0))::BIGINT[] AS hour_profile, "
        "  abs(round(t.hour_entropy, 6)) AS hour_entropy, "
        f" {iso('t.first_ts')} AS first_request, {iso('t.last_ts')} AS last_request, "
        "  coalesce(i.distinct_ips, 0) AS distinct_ips, "
        "  m.names AS models, m.counts AS model_counts, c.names AS capabilities, c.counts AS capability_counts "
        "FROM totals t JOIN account_days d USING (account_id) LEFT JOIN ips i USING (account_id) "
        "LEFT JOIN account_mix m ON m.account_id = t.account_id AND m.kind = 'model' "
        "LEFT JOIN account_mix c ON c.account_id = t.account_id AND c.kind = 'capability'")

    build_prompt_templates(conn, lsh_threshold, lsh_max_texts)
    conn.execute(
        f"CREATE OR REPLACE TABLE account_templates AS SELECT account_id, template_id, count(*) AS n, "
        f"{iso('min(ts)')} AS first_seen, {iso('max(ts)')} AS last_seen FROM ("
        f"  SELECT r.account_id, r.ts, coalesce(r.prompt_fingerprint, p.template_id) AS template_id "
        f"  FROM valid_requests r LEFT JOIN prompt_templates p ON r.prompt_fingerprint IS NULL AND p.prompt_hash = r.prompt_hash"
        f") WHERE template_id IS NOT NULL GROUP BY ALL")
    conn.execute(
        "CREATE OR REPLACE TABLE templates AS SELECT template_id, sum(n)::BIGINT AS requests, count(*) AS accounts, "
        "any_value(s.sample) AS sample FROM account_templates LEFT JOIN template_samples s USING (template_id) "
        "GROUP BY template_id HAVING count(*) >= $min_accounts", {"min_accounts": min_template_accounts})
    # a template only one account sent links nobody: most free-text prompts; not writing them keeps loads fast
    conn.execute("DELETE FROM account_templates WHERE template_id NOT IN (SELECT template_id FROM templates)")

    if have_intel:
        # every pair (not only the top-k IPs) counts towards network and ASN usage: one ASOF join, two groupings
        conn.execute(
            "CREATE OR REPLACE TABLE pair_usage AS SELECT account_id, proxy_network, asn, sum(n)::BIGINT AS n, "
            "count(*) AS distinct_ips, min(first_seen) AS first_seen, max(last_seen) AS last_seen "
            f"FROM ({matched_sql(conn, 'SELECT account_id, ip, n, first_seen, last_seen FROM account_ip_pairs')}) "
            "GROUP BY GROUPING SETS ((account_id, proxy_network), (account_id, asn))")
        conn.execute(
            f"CREATE OR REPLACE TABLE account_networks AS SELECT account_id, proxy_network, n, distinct_ips, "
            f"{iso('first_seen')} AS first_seen, {iso('last_seen')} AS last_seen FROM pair_usage "
            f"WHERE proxy_network IS NOT NULL")
        conn.execute(
            f"CREATE OR REPLACE TABLE account_asns AS SELECT account_id, asn, n, distinct_ips, "
            f"{iso('first_seen')} AS first_seen, {iso('last_seen')} AS last_seen "
            f"FROM ({_top(top_ips, '(SELECT * FROM pair_usage WHERE asn IS NOT NULL)', 'n DESC, asn')})")


# ------------------------------------------------------------------ `linkwatch aggregate`: features as Parquet

FEATURES_FORMAT = "linkwatch-features"
FEATURES_VERSION = 1
MANIFEST = "manifest.json"
# every feature table with its columns and DuckDB types (what aggregate_requests creates; both engines write
# exactly these) and the order its rows are written in
FEATURE_TABLES: dict[str, tuple[tuple[tuple[str, str], ...], str]] = {
    "account_usage": ((("account_id", "VARCHAR"), ("requests", "BIGINT"), ("input_tokens", "BIGINT"),
                       ("output_tokens", "BIGINT"), ("active_days", "BIGINT"), ("activity_days", "VARCHAR[]"),
                       ("activity_counts", "BIGINT[]"), ("hour_profile", "BIGINT[]"), ("hour_entropy", "DOUBLE"),
                       ("first_request", "VARCHAR"), ("last_request", "VARCHAR"), ("distinct_ips", "BIGINT"),
                       ("models", "VARCHAR[]"), ("model_counts", "BIGINT[]"), ("capabilities", "VARCHAR[]"),
                       ("capability_counts", "BIGINT[]")), "account_id"),
    "account_ips": ((("account_id", "VARCHAR"), ("ip", "VARCHAR"), ("n", "BIGINT"), ("first_seen", "VARCHAR"),
                     ("last_seen", "VARCHAR")), "account_id, ip"),
    "templates": ((("template_id", "VARCHAR"), ("requests", "BIGINT"), ("accounts", "BIGINT"),
                   ("sample", "VARCHAR")), "template_id"),
    "account_templates": ((("account_id", "VARCHAR"), ("template_id", "VARCHAR"), ("n", "BIGINT"),
                           ("first_seen", "VARCHAR"), ("last_seen", "VARCHAR")), "account_id, template_id"),
    "models": ((("name", "VARCHAR"), ("first_seen", "VARCHAR")), "name"),
    "account_models": ((("account_id", "VARCHAR"), ("model", "VARCHAR"), ("requests", "BIGINT"),
                        ("first_seen", "VARCHAR"), ("last_seen", "VARCHAR"), ("days", "VARCHAR[]"),
                        ("counts", "BIGINT[]")), "account_id, model"),
    "account_networks": ((("account_id", "VARCHAR"), ("proxy_network", "VARCHAR"), ("n", "BIGINT"),
                          ("distinct_ips", "BIGINT"), ("first_seen", "VARCHAR"), ("last_seen", "VARCHAR")),
                         "account_id, proxy_network"),
    "account_asns": ((("account_id", "VARCHAR"), ("asn", "BIGINT"), ("n", "BIGINT"), ("distinct_ips", "BIGINT"),
                      ("first_seen", "VARCHAR"), ("last_seen", "VARCHAR")), "account_id, asn"),
}
NETWORK_FEATURES = ("account_networks", "account_asns")


def feature_columns(table: str) -> str:
    """SQL column definitions of a feature table (``name TYPE, ...``)."""
    return ", ".join(f"{name} {kind}" for name, kind in FEATURE_TABLES[table][0])


def write_features(conn: duckdb.DuckDBPyConnection, out: Path, have_intel: bool) -> dict[str, int]:
    """Copy the feature tables (in their declared types and row order) to ``out/<table>.parquet``."""
    rows = {}
    for table, (columns, order) in FEATURE_TABLES.items():
        if table in NETWORK_FEATURES and not have_intel:
            continue
        select = ", ".join(f"{name}::{kind} AS {name}" for name, kind in columns)
        conn.execute(f"COPY (SELECT {select} FROM {table} ORDER BY {order}) "
                     f"TO {sql_text(str(out / (table + '.parquet')))} (FORMAT parquet)")
        rows[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    return rows


def is_features_folder(path: Path) -> bool:
    """Whether ``path`` is a folder `linkwatch aggregate` wrote (it holds a manifest.json)."""
    return path.is_dir() and (path / MANIFEST).is_file()


def read_manifest(folder: Path) -> dict:
    """The manifest of a FEATURES folder, checked: format, version and every table file it names."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LinkwatchError(f"{folder / MANIFEST}: not a readable features manifest ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FEATURES_FORMAT:
        raise LinkwatchError(f"{folder / MANIFEST}: not a features manifest (format must be {FEATURES_FORMAT!r})")
    if manifest.get("version") != FEATURES_VERSION:
        raise LinkwatchError(f"{folder / MANIFEST}: features format version {manifest.get('version')!r} is not "
                             f"supported (this linkwatch reads version {FEATURES_VERSION}); run linkwatch aggregate again")
    tables = manifest.get("tables")
    if not isinstance(tables, dict) or not set(FEATURE_TABLES) - set(NETWORK_FEATURES) <= set(tables) \
            or not set(tables) <= set(FEATURE_TABLES):
        raise LinkwatchError(f"{folder / MANIFEST}: the tables listed are not the feature tables "
                             f"({', '.join(FEATURE_TABLES)})")
    for table in tables:
        if not (folder / f"{table}.parquet").is_file():
            raise LinkwatchError(f"{folder / (table + '.parquet')}: missing (the manifest lists it)")
    return manifest


def register_features(conn: duckdb.DuckDBPyConnection, folder: Path, manifest: dict) -> None:
    """Create the feature tables in ``conn`` from a FEATURES folder; network tables it lacks are empty."""
    for table in FEATURE_TABLES:
        columns = FEATURE_TABLES[table][0]
        if table in manifest["tables"]:
            path = sql_text(str(folder / f"{table}.parquet"))
            select = ", ".join(f"{name}::{kind} AS {name}" for name, kind in columns)
            try:
                conn.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {select} FROM read_parquet({path})")
            except duckdb.Error as exc:
                raise LinkwatchError(f"{folder / (table + '.parquet')}: not the feature table linkwatch aggregate "
                                     f"writes ({str(exc).splitlines()[0]})") from exc
        else:
            conn.execute(f"CREATE OR REPLACE TABLE {table} ({feature_columns(table)})")


@dataclass
class AggregateOptions:
    engine: str = "duckdb"  # duckdb | spark
    master: str | None = None  # Spark master URL (None: LINKWATCH_SPARK_MASTER, or what spark-submit set)
    spark_conf: dict[str, str] = field(default_factory=dict)
    stage: str | None = None  # Spark: URL of a folder every executor reads (default: the local temp folder)
    strict: bool = False
    rejects_path: Path | None = None
    top_ips: int = field(default_factory=lambda: int(setting("LINKWATCH_LOAD_TOP_IPS")))
    progress: bool = True


@dataclass
class AggregateSummary:
    rows_read: int
    rows_valid: int
    log: RejectLog
    rows: dict[str, int]  # feature table -> rows written (empty when nothing was written)
    out: Path
    rejects_path: Path
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [f"requests: {self.rows_read:,} read, {self.rows_valid:,} valid, "
               f"{self.log.rejected_rows['requests']:,} rejected, {self.log.rejected_files['requests']} file(s) rejected"]
        if self.rows:
            out += [f"{table:<18} {count:>12,} rows" for table, count in self.rows.items()]
            out.append(f"features: {self.out}")
        else:
            out.append("features: nothing written (--strict and input was rejected)")
        out.append(f"rejects: {self.rejects_path}" if self.log.any else "rejects: none")
        out.append(f"seconds: {self.seconds:.1f}")
        return out


def _request_sources(paths: list[Path], log: RejectLog) -> list:
    """The requests and ip_intel files under ``paths``; the bundle's other tables are left to `linkwatch load`."""
    sources = []
    for source in discover(paths, log):
        if source.table in ("requests", "ip_intel"):
            sources.append(source)
        else:
            log.warnings.append(f"{source.path}: not read ({source.table} is loaded by linkwatch load, not aggregated)")
    if not any(s.table == "requests" for s in sources):
        raise LinkwatchError("no requests table found: give bundle folders or requests files "
                             "(requests.csv, .csv.gz, .jsonl, .parquet or a requests/ folder of parts)")
    return sources


def _prepare_out(out: Path) -> Path:
    """A fresh folder next to ``out`` to write into; it replaces ``out`` only once complete."""
    if out.exists() and not is_features_folder(out) and (not out.is_dir() or any(out.iterdir())):
        raise LinkwatchError(f"{out}: exists and is not a features folder (give a new or empty folder)")
    partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    return partial


def _bundle_networks(conn: duckdb.DuckDBPyConnection) -> list[dict]:
    """The bundle's own ip_intel networks as segment inputs (as `linkwatch load` reads them into an empty graph)."""
    return [dict(zip(SEGMENT_COLUMNS, row)) for row in conn.execute(
        f"SELECT {', '.join(SEGMENT_COLUMNS)} FROM valid_ip_intel ORDER BY network").fetchall()]


def is_url(path: str | Path) -> bool:
    """Whether an input is a URL for Spark's Hadoop file systems (s3a://bucket/key, hdfs://..., file:///...)."""
    return isinstance(path, str) and "://" in path and path.split("://", 1)[0].replace("+", "").isalnum()


def run_aggregate(paths: list[Path | str], out: Path, options: AggregateOptions) -> AggregateSummary:
    """Validate the requests under ``paths`` and write their per-account features to ``out`` (Parquet + manifest).

    Validation (and its rejects) is the one `linkwatch load` runs, in DuckDB, whichever engine aggregates.
    Network and ASN usage come from the ip_intel of the same inputs (none: no network tables).
    """
    from loaders.pipeline import _connect, default_rejects_path  # the load's DuckDB settings and rejects place

    started = time.monotonic()
    log = RejectLog()
    urls = [p for p in paths if is_url(p)]
    if urls and options.engine != "spark":
        raise LinkwatchError(f"{urls[0]}: a URL input needs --engine spark (its Hadoop file systems read it)")
    rejects_path = options.rejects_path or default_rejects_path()
    given = [str(p) for p in paths]
    partial = _prepare_out(out)
    try:
        with tempfile.TemporaryDirectory(prefix="linkwatch-aggregate-") as tmp:
            work = Path(tmp)
            (work / "staged").mkdir()
            if urls:  # DuckDB validates on this machine: the files are fetched first (docs/scaling.md)
                from loaders.spark_aggregate import fetch_inputs

                fetched = iter(fetch_inputs(urls, work / "inputs", options))
                paths = [next(fetched) if is_url(p) else Path(p) for p in paths]
            sources = _request_sources([Path(p) for p in paths], log)
            conn = _connect(work)
            try:
                selects = read_sources(conn, sources, work / "staged", log, options.progress)
                create_raw_views(conn, selects)
                tables = set(selects)
                rows_read = validate(conn, tables, log)
                read = rows_read.get("requests", 0) + log.rejected_on_read.get("requests", 0)
                valid = conn.execute("SELECT count(*) FROM valid_requests").fetchall()[0][0] if "requests" in tables else 0
                summary = AggregateSummary(read, valid, log, {}, out, rejects_path)
                if log.any:
                    log.write(conn, rejects_path)
                if options.strict and log.any:
                    shutil.rmtree(partial)
                    summary.seconds = time.monotonic() - started
                    return summary
                if "requests" not in tables:  # every requests file was rejected whole
                    conn.execute("CREATE TABLE valid_requests AS SELECT * FROM (SELECT NULL::TIMESTAMPTZ AS ts, "
                                 "NULL::VARCHAR AS account_id, NULL::VARCHAR AS ip, NULL::VARCHAR AS model, "
                                 "NULL::BIGINT AS input_tokens, NULL::BIGINT AS output_tokens, NULL::UBIGINT AS prompt_hash, "
                                 "NULL::VARCHAR AS prompt_fingerprint, NULL::VARCHAR AS capability) WHERE false")
                    conn.execute("CREATE VIEW raw_requests AS SELECT NULL::VARCHAR AS prompt WHERE false")
                segments = build_segments(conn, _bundle_networks(conn)) if "ip_intel" in tables else 0
                have_intel = segments > 0
                settings = _aggregate_settings(options)
                if options.engine == "spark":
                    from loaders.spark_aggregate import aggregate_with_spark

                    aggregate_with_spark(conn, work, options, settings, have_intel)
                else:
                    aggregate_requests(conn, options.top_ips, settings["lsh_threshold"], settings["lsh_max_texts"],
                                       settings["min_template_accounts"], have_intel)
                summary.rows = write_features(conn, partial, have_intel)
            finally:
                conn.close()
        manifest = {
            "format": FEATURES_FORMAT, "version": FEATURES_VERSION, "engine": options.engine,
            "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "inputs": given, "files": [str(s.path) for s in sources], "ip_intel": "ip_intel" in tables, "settings": settings,
            "requests": {"read": summary.rows_read, "valid": summary.rows_valid,
                         "rejected": log.rejected_rows["requests"], "files_rejected": log.rejected_files["requests"]},
            "tables": {table: {"file": f"{table}.parquet", "rows": count} for table, count in summary.rows.items()},
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        partial.rename(out)
    finally:
        if partial.exists():
            shutil.rmtree(partial)
    summary.seconds = time.monotonic() - started
    return summary


def _aggregate_settings(options: AggregateOptions) -> dict:
    return {"top_ips": options.top_ips, "lsh_threshold": float(setting("LINKWATCH_LOAD_LSH_THRESHOLD")),
            "lsh_max_texts": int(setting("LINKWATCH_LOAD_LSH_MAX_TEXTS")),
            "min_template_accounts": int(setting("LINKWATCH_LOAD_MIN_TEMPLATE_ACCOUNTS"))}
