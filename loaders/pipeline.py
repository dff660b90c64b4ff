"""`linkwatch load` end to end: find, read, validate, aggregate, then write to Neo4j.

Everything that can reject input runs before the first write, so ``strict`` can promise
that nothing is written when anything is rejected.
"""
from __future__ import annotations

import tempfile
import time
from datetime import datetime, timezone
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from graph import db
from graph.errors import LinkwatchError
from loaders import bulk_import, neo4j_writer
from loaders.aggregate import aggregate_requests, is_features_folder, iso, read_manifest, register_features
from loaders.formats import EXTERNAL_FORMATS, external_sources, mapped_sources
from loaders.ipintel import SEGMENT_COLUMNS, build_segments, matched_sql
from loaders.reading import read_sources
from loaders.rejects import RejectLog
from graph.config import setting
from loaders.spec import WRITE_ORDER
from loaders.tables import create_raw_views, discover
from loaders.validate import validate


@dataclass
class LoadOptions:
    fmt: str = "bundle"  # bundle | maxmind-asn | maxmind-geo | ip2proxy | tor-exits
    mapping: Path | None = None
    strict: bool = False
    rejects_path: Path | None = None  # None: <LINKWATCH_HOME>/rejects/rejects-<UTC time>.csv
    prefer: str = "last"  # which row wins a real conflict in an entity table: the last (file, line) or the first
    batch_size: int = field(default_factory=lambda: int(setting("LINKWATCH_LOAD_BATCH_SIZE")))
    top_ips: int = field(default_factory=lambda: int(setting("LINKWATCH_LOAD_TOP_IPS")))
    progress: bool = True
    bulk: str = "never"  # auto | always | never: first load into an empty managed database by neo4j-admin import


def default_rejects_path() -> Path:
    """A new file under LINKWATCH_HOME named by the load's start time (never the current folder)."""
    folder = Path(setting("LINKWATCH_HOME")).expanduser() / "rejects"
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"rejects-{stamp}.csv"
    suffix = 1
    while path.exists():
        suffix += 1
        path = folder / f"rejects-{stamp}-{suffix}.csv"
    return path


@dataclass
class Summary:
    rows_read: dict[str, int]
    rows_loaded: dict[str, int]  # rows accepted (not rejected)
    log: RejectLog
    stats: neo4j_writer.WriteStats
    written: bool
    keys: dict[str, int] = field(default_factory=dict)  # distinct keys the accepted rows merged into
    rejects_path: Path | None = None
    reasons: list[tuple] = field(default_factory=list)  # (count, table file, column, reason shape, first example)
    seconds: float = 0.0
    graph_nodes: int | None = None
    graph_relationships: int | None = None
    bulk_phases: dict[str, float] = field(default_factory=dict)  # seconds per phase when imported in bulk

    def lines(self, rejects_path: Path | None = None) -> list[str]:
        rejects_path = rejects_path or self.rejects_path
        tables = sorted(set(self.rows_read) | set(self.log.rejected_rows) | set(self.log.rejected_files))
        out = [f"{'table':<10} {'read':>12} {'loaded':>12} {'rejected':>10}  files rejected  {'merged into':>12}"]
        for t in tables:
            merged = f"{self.keys[t]:>12,} {MERGED_INTO.get(t, 'rows')}" if t in self.keys and t in MERGED_INTO else ""
            out.append(f"{t:<10} {self.rows_read.get(t, 0):>12,} {self.rows_loaded.get(t, 0):>12,} "
                       f"{self.log.rejected_rows[t]:>10,}  {self.log.rejected_files[t]:<14}  {merged}".rstrip())
        if self.written:
            c = self.stats.counters
            out.append(f"neo4j: {c['nodes_created']:,} nodes created, {c['relationships_created']:,} relationships created, "
                       f"{c['relationships_deleted']:,} deleted, {c['properties_set']:,} properties set "
                       f"(existing nodes and relationships are updated in place)")
            out.append(f"graph now: {self.graph_nodes:,} nodes, {self.graph_relationships:,} relationships")
            if self.bulk_phases:
                out.append("written by neo4j-admin database import (empty database): "
                           + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.bulk_phases.items()))
        else:
            out.append("neo4j: nothing written (--strict and input was rejected)")
        if self.reasons:
            out.append("rejected, by reason:")
            for count, file, column, reason, example in self.reasons:
                out.append(f"  {count:>10,}  {file}  {column or '-'}  {reason}  (e.g. line {example})")
        out.append(f"rejects: {rejects_path}" if self.log.any else "rejects: none")
        out.append(f"seconds: {self.seconds:.1f}")
        return out


# what the merged rows of a keyed table become in the graph (shown in the summary)
MERGED_INTO = {"relations": "RELATED edges", "links": "HAS_IDENTIFIER edges", "accounts": "accounts",
               "ip_intel": "networks", "labels": "labels"}


def _sources(paths: list[Path], options: LoadOptions, log: RejectLog):
    if options.mapping is not None:
        return mapped_sources(paths, options.mapping, log)
    if options.fmt in EXTERNAL_FORMATS:
        return external_sources(paths, options.fmt, log)
    return discover(paths, log)


def _connect(work: Path) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(str(work / "load.duckdb"))
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute(f"SET memory_limit = '{setting('LINKWATCH_LOAD_MEMORY')}'")
    conn.execute(f"SET temp_directory = '{work / 'spill'}'")
    conn.execute("SET preserve_insertion_order = false")  # every output is ordered or keyed explicitly
    return conn


def load(paths: list[Path], options: LoadOptions) -> Summary:
    """Load bundle tables or external files into Neo4j; see docs/data-format.md."""
    started = time.monotonic()
    log = RejectLog()
    features, paths = _features_folder(paths, options)
    sources = _sources(paths, options, log) if paths else []
    if features is not None:  # its request features stand for the requests of the other paths
        for source in (s for s in sources if s.table == "requests"):
            log.warnings.append(f"{source.path}: not read (the request features come from {features[0]})")
        sources = [s for s in sources if s.table != "requests"]
    rejects_path = options.rejects_path or default_rejects_path()
    with tempfile.TemporaryDirectory(prefix="linkwatch-load-") as tmp:
        work = Path(tmp)
        (work / "staged").mkdir()
        conn = _connect(work)
        try:
            selects = read_sources(conn, sources, work / "staged", log, options.progress)
            create_raw_views(conn, selects)
            tables = set(selects)
            rows_read = validate(conn, tables, log, options.prefer)
            rows_loaded = {t: conn.execute(f"SELECT count(*) FROM checked_{t} WHERE len(problems) = 0").fetchall()[0][0]
                           for t in tables}
            for table, rejected in log.rejected_on_read.items():
                rows_read[table] = rows_read.get(table, 0) + rejected
            keys = {t: conn.execute(f"SELECT count(*) FROM valid_{t}").fetchall()[0][0] for t in tables}
            if features is not None:
                folder, manifest = features
                register_features(conn, folder, manifest)
                tables.add("requests")
                rows_read["requests"] = manifest["requests"]["read"]
                rows_loaded["requests"] = manifest["requests"]["valid"]
            summary = Summary(rows_read, rows_loaded, log, neo4j_writer.WriteStats(), written=False, keys=keys,
                              rejects_path=rejects_path)
            if log.any:  # first, so the rejects are there even when the server then fails
                summary.reasons = log.write(conn, rejects_path)
            if not (options.strict and log.any):
                _write_graph(conn, tables, options, summary, work, aggregated=features is not None)
        finally:
            conn.close()
    summary.seconds = time.monotonic() - started
    return summary


def _features_folder(paths: list[Path], options: LoadOptions) -> tuple[tuple[Path, dict] | None, list[Path]]:
    """The FEATURES folder among ``paths`` (written by `linkwatch aggregate`) with its manifest, and the other paths."""
    folders = [p for p in paths if is_features_folder(p)]
    if not folders:
        return None, paths
    if len(folders) > 1:
        raise LinkwatchError(f"{len(folders)} features folders given: load one at a time")
    if options.mapping is not None or options.fmt != "bundle":
        raise LinkwatchError(f"{folders[0]}: a features folder cannot be combined with --mapping or --format")
    return (folders[0], read_manifest(folders[0])), [p for p in paths if p != folders[0]]


def _write_graph(conn: duckdb.DuckDBPyConnection, tables: set[str], options: LoadOptions, summary: Summary,
                 work: Path, aggregated: bool = False) -> None:
    db.verify()
    # an empty managed database may be written by neo4j-admin import (loaders/bulk_import.py): the same rows,
    # recorded first, then imported or (too few to pay for the restart) sent as usual
    recorder = bulk_import.recorder_for(conn, options.bulk)
    if recorder is not None:
        _write_tables(conn, tables, options, recorder, aggregated)
        if bulk_import.pays(recorder, options.bulk):
            try:
                summary.bulk_phases = bulk_import.load(conn, recorder, work / "bulk", summary.stats,
                                                       log=print if options.progress else lambda *_: None)
            except bulk_import.NotImportable as exc:
                if options.bulk == "always":
                    raise LinkwatchError(f"--bulk always: these rows cannot be imported unchanged ({exc}); "
                                         "nothing was written: use --bulk auto or never") from exc
            else:
                counts = neo4j_writer.read("graph_counts")[0]
                summary.graph_nodes, summary.graph_relationships = counts["nodes"], counts["relationships"]
                summary.written = True
                return
    db.apply_schema()
    with neo4j_writer.Writer(summary.stats, options.batch_size, options.progress,
                             single_transaction=options.strict) as writer:
        if recorder is None:
            _write_tables(conn, tables, options, writer, aggregated)
        else:
            recorder.replay(writer)
        counts = writer.read("graph_counts")[0]
    summary.graph_nodes, summary.graph_relationships = counts["nodes"], counts["relationships"]
    summary.written = True


def _write_tables(conn: duckdb.DuckDBPyConnection, tables: set[str], options: LoadOptions,
                  writer: neo4j_writer.Writer, aggregated: bool = False) -> None:
    has_ips = "requests" in tables or "links" in tables or "ip_intel" in tables
    have_intel = has_ips and _build_networks(conn, "ip_intel" in tables, writer) > 0
    if "requests" in tables and not aggregated:  # else the feature tables came from a FEATURES folder
        aggregate_requests(conn, options.top_ips, float(setting("LINKWATCH_LOAD_LSH_THRESHOLD")),
                           int(setting("LINKWATCH_LOAD_LSH_MAX_TEXTS")),
                           int(setting("LINKWATCH_LOAD_MIN_TEMPLATE_ACCOUNTS")), have_intel)

    def write(statement: str, sql: str) -> None:
        writer.write(statement, conn, sql)

    for table in WRITE_ORDER:
        if table not in tables:
            continue
        if table == "ip_intel":
            columns = ", ".join(_iso_columns(conn, "ip_intel"))
            write("ip_networks", f"SELECT {columns}, "
                  "min(as_org) OVER (PARTITION BY asn) AS as_org_for_asn, "
                  "min(proxy_type) OVER (PARTITION BY proxy_network) AS proxy_type_for_network "
                  "FROM valid_ip_intel ORDER BY network")
        elif table == "requests":
            write("account_usage", "SELECT * FROM account_usage ORDER BY account_id")
            write("templates", "SELECT * FROM templates ORDER BY template_id")
            write("account_templates", "SELECT * FROM account_templates ORDER BY account_id, template_id")
            write("models", "SELECT * FROM models ORDER BY name")
            write("account_models", "SELECT * FROM account_models ORDER BY account_id, model")
            write("account_ips", "SELECT * FROM account_ips ORDER BY account_id, ip")
            if have_intel:
                write("account_networks", "SELECT * FROM account_networks ORDER BY account_id, proxy_network")
                write("account_asns", "SELECT * FROM account_asns ORDER BY account_id, asn")
        else:
            columns = ", ".join(_iso_columns(conn, table))
            write(table, f"SELECT {columns} FROM valid_{table} ORDER BY ALL")
    if have_intel:
        _write_ip_intel(conn, tables, writer)


def _iso_columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """SELECT items of a valid_ table with timestamps as ISO text (Cypher's datetime() reads them)."""
    described = conn.execute(f"DESCRIBE valid_{table}").fetchall()
    return [f"{iso(name)} AS {name}" if kind.startswith("TIMESTAMP") else name
            for name, kind, *_ in described if not name.startswith("_")]


def _build_networks(conn: duckdb.DuckDBPyConnection, intel_in_run: bool, writer: neo4j_writer.Writer) -> int:
    """Segments from the networks already in the graph plus this load's ip_intel (which wins)."""
    networks = {n["network"]: n for n in writer.read("read_ip_networks")}
    if intel_in_run:
        for row in conn.sql("SELECT network, asn, as_org, proxy_type, proxy_network FROM valid_ip_intel").fetchall():
            known = networks.get(row[0], {})
            # as in cypher/load/ip_networks.cypher: a missing value keeps the one already known
            networks[row[0]] = {name: value if value is not None else known.get(name)
                                for name, value in zip(SEGMENT_COLUMNS, row)}
    return build_segments(conn, list(networks.values()))


def _write_ip_intel(conn: duckdb.DuckDBPyConnection, tables: set[str], writer: neo4j_writer.Writer) -> None:
    """Attach intel to IP nodes: all IPs in the graph when new intel came in, else the IPs this load wrote."""
    if "ip_intel" in tables:
        ips = [row["ip"] for row in writer.read("read_ips")]
        conn.register("graph_ips_arrow", pa.table({"ip": pa.array(ips, pa.string())}))
        conn.execute("CREATE OR REPLACE TABLE ips_to_enrich AS SELECT DISTINCT ip FROM graph_ips_arrow")
        conn.unregister("graph_ips_arrow")
    else:
        parts = []
        if "requests" in tables:
            parts.append("SELECT ip FROM account_ips")
        if "links" in tables:
            parts.append("SELECT value AS ip FROM valid_links WHERE kind = 'ip'")
        conn.execute(f"CREATE OR REPLACE TABLE ips_to_enrich AS SELECT DISTINCT ip FROM ({' UNION ALL '.join(parts)})")
    conn.execute(f"CREATE OR REPLACE TABLE ip_matches AS {matched_sql(conn, 'SELECT ip FROM ips_to_enrich')}")
    writer.write("ip_intel", conn, "SELECT e.ip, m.network, m.asn, m.as_org, m.proxy_type, m.proxy_network "
          "FROM ips_to_enrich e LEFT JOIN ip_matches m USING (ip) ORDER BY e.ip")
