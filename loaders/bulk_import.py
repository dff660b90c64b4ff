"""The first load into an empty managed database through ``neo4j-admin database import full``.

Transactional MERGE pays for an index lookup per endpoint and a transaction per batch; the offline importer
writes the store files directly and is many times faster on a large first load (bench/RESULTS.md). It only
writes a new database, so Linkwatch uses it only when the database holds no node and the server is the managed
one it can stop; every later load stays transactional and idempotent (cypher/load/*.cypher).

How it stays the same graph: the pipeline runs exactly as for a transactional load, but with a ``Recorder`` in
place of the Neo4j writer. The recorder keeps each load statement's rows as a DuckDB table (``bulk_<statement>``)
instead of sending them. ``NODES`` and ``RELATIONSHIPS`` below then say, per label and type, which statement
rows make which node, relationship and property - the same as the ``MERGE``/``SET`` of the statement of that
name in cypher/load/, applied to an empty graph (the loader's rows are unique per key, which is checked). The
CSV files are written by DuckDB (RFC 4180 quoting, every string quoted; the array delimiter is a character no
array element contains), then: stop the server, import, start it, apply the schema and wait for its indexes.

A failed import leaves the database empty (its partial store is removed) and the server running, so the same
``linkwatch load`` can simply be run again. ``neo4j-admin database import incremental`` is an Enterprise Edition
command (Community's tool lists only ``full``), so it is not used.
"""
from __future__ import annotations

import shutil
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb

from graph import db, runtime
from graph.config import connection, managed_paths, setting
from graph.errors import LinkwatchError
from loaders import neo4j_writer
from loaders.spec import TYPED_KINDS

MODES = ("auto", "always", "never")

# Characters tried, in order, as the array delimiter: the first one that no element of any string array
# contains (a delimiter cannot be escaped inside an array field).
DELIMITER_CANDIDATES = ("\x1f", "\x1e", "\x1d", "\x1c", "|", ";", "\ue000", "\ue001", "\U000f0000")


class BulkImportFailed(LinkwatchError):
    """neo4j-admin database import failed, or the server did not come back after it."""


class NotImportable(Exception):
    """These rows cannot go through the importer unchanged (the load then runs transactionally)."""


# ---------------------------------------------------------------- recording the load's rows


class Recorder:
    """Stands in for ``neo4j_writer.Writer`` on an empty database: keeps each statement's rows in DuckDB."""

    def __init__(self, conn: duckdb.DuckDBPyConnection):
        self.conn = conn
        self.statements: list[str] = []
        self.rows: Counter = Counter()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def has(self, statement: str) -> bool:
        return statement in self.statements

    def read(self, statement: str) -> list[dict]:
        if statement == "read_ip_networks":  # the graph is empty: no network known yet
            return []
        if statement == "read_ips":  # the IPs this load wrote so far
            parts = []
            if self.has("account_ips"):
                parts.append("SELECT ip FROM bulk_account_ips")
            if self.has("links"):
                parts.append("SELECT value AS ip FROM bulk_links WHERE kind = 'ip'")
            if not parts:
                return []
            return [{"ip": ip} for (ip,) in self.conn.sql(" UNION ".join(parts)).fetchall()]
        raise ValueError(f"the bulk recorder cannot answer {statement}")

    def write(self, statement: str, conn: duckdb.DuckDBPyConnection, sql: str) -> None:
        if self.has(statement):
            raise ValueError(f"{statement} written twice in one load")
        conn.execute(f"CREATE OR REPLACE TABLE bulk_{statement} AS {sql}")
        self.rows[statement] = conn.execute(f"SELECT count(*) FROM bulk_{statement}").fetchall()[0][0]
        self.statements.append(statement)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def replay(self, writer: neo4j_writer.Writer) -> None:
        """Send the recorded rows transactionally, statement by statement in the order they were recorded."""
        for statement in self.statements:
            writer.write(statement, self.conn, f"SELECT * FROM bulk_{statement} ORDER BY ALL")


def recorder_for(conn: duckdb.DuckDBPyConnection, mode: str) -> Recorder | None:
    """A Recorder when this load may be a bulk import: not ``never``, the managed server, an empty database."""
    if mode not in MODES:
        raise LinkwatchError(f"--bulk must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "never":
        return None
    if not connection().managed:
        if mode == "always":
            raise LinkwatchError("--bulk always needs the managed Neo4j (NEO4J_URI points at another server, which "
                                 "Linkwatch cannot stop to import into); use --bulk auto or never")
        return None
    nodes = neo4j_writer.read("graph_counts")[0]["nodes"]
    if nodes:
        if mode == "always":
            raise LinkwatchError(f"--bulk always needs an empty database, and this one holds {nodes:,} nodes; "
                                 "later loads are transactional: use --bulk auto or never")
        return None
    return Recorder(conn)


def pays(recorder: Recorder, mode: str) -> bool:
    """Whether to import: always, or (auto) when the rows to write reach LINKWATCH_LOAD_BULK_MIN_ROWS."""
    return mode == "always" or recorder.total_rows >= int(setting("LINKWATCH_LOAD_BULK_MIN_ROWS"))


# ---------------------------------------------------------------- what the statements make


@dataclass(frozen=True)
class Source:
    """Rows of one recorded statement that give a node its key, and (``props``) properties."""

    statement: str
    key: str  # SQL over the statement's columns: the node's key value
    where: str = "TRUE"
    props: tuple[tuple[str, str], ...] = ()  # (property, SQL expression over the statement's columns)


@dataclass(frozen=True)
class NodeSpec:
    label: str
    key: str  # the key property (stored), or "" for a composite key (Identifier: kind and value stored as props)
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class RelSpec:
    type: str
    statement: str
    start: tuple[str, str]  # (label, SQL key expression)
    end: tuple[str, str]
    where: str = "TRUE"
    props: tuple[tuple[str, str], ...] = ()


# Properties set with datetime(...) in the Cypher: written as ISO text, typed `datetime` in the header.
DATETIME_PROPS = {"created_at", "first_request", "last_request", "first_seen", "last_seen", "ts"}

_ACCOUNT_PROPS_ACCOUNTS = tuple((p, p) for p in ("created_at", "email", "org", "country", "plan", "status"))
_ACCOUNT_PROPS_USAGE = tuple((p, p) for p in (
    "requests", "input_tokens", "output_tokens", "active_days", "activity_days", "activity_counts", "hour_profile",
    "hour_entropy", "first_request", "last_request", "distinct_ips", "models", "model_counts", "capabilities",
    "capability_counts"))
_NETWORK_PROPS = tuple((p, p) for p in (
    "asn", "as_org", "proxy_type", "proxy_network", "feed_type", "provider", "country", "country_name", "region",
    "city", "isp", "domain", "usage_type", "threat", "fraud_score", "last_seen_days", "latitude", "longitude",
    "postal_code", "last_seen"))
_OTHER_KIND = "kind NOT IN (" + ", ".join(f"'{k}'" for k in TYPED_KINDS) + ")"
IDENTIFIER_ID = "json_array(kind, value)::VARCHAR"  # the importer's id of an (:Identifier {kind, value})

NODES: tuple[NodeSpec, ...] = (
    NodeSpec("Account", "account_id", (
        Source("accounts", "account_id", props=_ACCOUNT_PROPS_ACCOUNTS),
        Source("account_usage", "account_id", props=_ACCOUNT_PROPS_USAGE),
        Source("labels", "account_id", props=(("label", "label"), ("label_source", "source"))),
        *(Source(s, "account_id") for s in ("links", "relations", "account_templates", "account_models",
                                            "account_ips", "account_networks", "account_asns")),
        Source("relations", "other_account_id"),
    )),
    *(NodeSpec(label, "value", (Source("links", "value", f"kind = '{kind}'"),)
               + ((Source("account_ips", "ip"),
                   Source("ip_intel", "ip", props=tuple((p, p) for p in (
                       "network", "asn", "as_org", "proxy_type", "proxy_network")))) if kind == "ip" else ()))
      for kind, label in TYPED_KINDS.items()),
    NodeSpec("Identifier", "", (Source("links", IDENTIFIER_ID, _OTHER_KIND,
                                       props=(("kind", "kind"), ("value", "value"))),)),
    NodeSpec("IPNetwork", "cidr", (Source("ip_networks", "network", props=_NETWORK_PROPS),)),
    NodeSpec("ASN", "asn", (Source("ip_networks", "asn", "asn IS NOT NULL", props=(("name", "as_org_for_asn"),)),
                            Source("ip_intel", "asn", "asn IS NOT NULL"), Source("account_asns", "asn"))),
    NodeSpec("ProxyNetwork", "name", (
        Source("ip_networks", "proxy_network", "proxy_network IS NOT NULL",
               props=(("proxy_type", "proxy_type_for_network"),)),
        Source("ip_intel", "proxy_network", "proxy_network IS NOT NULL"), Source("account_networks", "proxy_network"))),
    NodeSpec("PromptTemplate", "template_id", (
        Source("templates", "template_id", props=(("sample", "sample"), ("requests", "requests"),
                                                  ("accounts", "accounts"))),
        Source("account_templates", "template_id"))),
    NodeSpec("Model", "name", (Source("models", "name", props=(("first_seen", "first_seen"),)),
                               Source("account_models", "model"))),
)

_SEEN = (("first_seen", "first_seen"), ("last_seen", "last_seen"))
_USE = (("count", "n"), ("distinct_ips", "distinct_ips"), *_SEEN)

RELATIONSHIPS: tuple[RelSpec, ...] = (
    *(RelSpec("HAS_IDENTIFIER", "links", ("Account", "account_id"), (label, "value"), f"kind = '{kind}'",
              (("kind", "kind"), *_SEEN, ("count", "count")))
      for kind, label in TYPED_KINDS.items()),
    RelSpec("HAS_IDENTIFIER", "links", ("Account", "account_id"), ("Identifier", IDENTIFIER_ID), _OTHER_KIND,
            (("kind", "kind"), *_SEEN, ("count", "count"))),
    RelSpec("RELATED", "relations", ("Account", "account_id"), ("Account", "other_account_id"), props=(
        ("kind", "kind"), ("count", "count"), *_SEEN, ("ts", "last_seen"), ("amount", "amount"))),
    RelSpec("SENT", "account_templates", ("Account", "account_id"), ("PromptTemplate", "template_id"),
            props=(("n", "n"), *_SEEN)),
    # cypher/load/account_models.cypher on an empty graph: the row's days in day order, their counts and sum
    RelSpec("USED_MODEL", "account_models", ("Account", "account_id"), ("Model", "model"), props=(
        ("days", "list_sort(days)"),
        ("counts", "list_transform(list_grade_up(days), lambda i: counts[i])"),
        ("requests", "list_sum(counts)::BIGINT"), *_SEEN)),
    RelSpec("USED_IP", "account_ips", ("Account", "account_id"), ("IP", "ip"), props=(("count", "n"), *_SEEN)),
    RelSpec("USED_NETWORK", "account_networks", ("Account", "account_id"), ("ProxyNetwork", "proxy_network"),
            props=_USE),
    RelSpec("USED_ASN", "account_asns", ("Account", "account_id"), ("ASN", "asn"), props=_USE),
    RelSpec("IN_ASN", "ip_intel", ("IP", "ip"), ("ASN", "asn"), "asn IS NOT NULL"),
    RelSpec("EXIT_OF", "ip_intel", ("IP", "ip"), ("ProxyNetwork", "proxy_network"), "proxy_network IS NOT NULL"),
)

# Statements whose rows are unique per the key their MERGE uses (the loader aggregates them so): checked, since
# the importer would keep two rows the transactional MERGE makes one.
UNIQUE_KEYS = {
    "accounts": "account_id", "labels": "account_id", "account_usage": "account_id", "templates": "template_id",
    "models": "name", "ip_networks": "network", "ip_intel": "ip",
    "links": "account_id, kind, value", "relations": "account_id, other_account_id, kind",
    "account_templates": "account_id, template_id", "account_models": "account_id, model",
    "account_ips": "account_id, ip", "account_networks": "account_id, proxy_network", "account_asns": "account_id, asn",
}


# ---------------------------------------------------------------- CSV files


_LONG = {"BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT"}
_DOUBLE = {"DOUBLE", "FLOAT"}


def _neo4j_type(duck_type: str, prop: str) -> tuple[str, str]:
    """(header type, SQL template for the value: ``{}`` is the expression) of a DuckDB column type."""
    if duck_type.endswith("[]"):
        element, _ = _neo4j_type(duck_type[:-2], "")
        if element not in ("long", "double", "string", "boolean"):
            raise NotImportable(f"{prop}: arrays of {duck_type[:-2]}")
        cast = "::DOUBLE::VARCHAR" if element == "double" else "::VARCHAR"
        return f"{element}[]", "array_to_string(list_transform({}, lambda x: x%s), $delim)" % cast  # $delim: see _typed
    if prop in DATETIME_PROPS:
        if duck_type != "VARCHAR":
            raise NotImportable(f"{prop}: a time of type {duck_type}")
        return "datetime", "{}"
    if duck_type in _LONG:
        return "long", "{}::BIGINT"
    if duck_type in _DOUBLE:
        return "double", "{}::DOUBLE"  # the driver sends a float32 widened to double: so does this
    if duck_type == "VARCHAR":
        return "string", "{}"
    if duck_type == "BOOLEAN":
        return "boolean", "{}"
    if duck_type == '"NULL"':
        return "string", "{}"  # a column that is NULL in every row: no property at all
    raise NotImportable(f"{prop}: values of type {duck_type}")


def _expr_type(conn: duckdb.DuckDBPyConnection, statement: str, expr: str) -> str:
    return conn.execute(f"DESCRIBE SELECT {expr} AS v FROM bulk_{statement}").fetchall()[0][1]


@dataclass
class ImportFile:
    kind: str  # "nodes" | "relationships"
    name: str  # label or type
    path: Path
    rows: int
    properties: int  # property values written (not NULL)
    multiline: bool  # some string holds a line break


def _header(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class CsvWriter:
    """Writes the node and relationship files of one import into ``folder``."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, recorder: Recorder, folder: Path):
        self.conn, self.recorder, self.folder = conn, recorder, folder
        if "," in str(folder) or "=" in str(folder):
            raise NotImportable(f"the work folder {folder} has a ',' or '=' (the importer's list separators)")
        folder.mkdir(parents=True, exist_ok=True)
        self.files: list[ImportFile] = []
        self.delimiter = ""

    def check(self) -> None:
        """Refuse what the importer cannot take unchanged: repeated keys, empty arrays or array elements."""
        for statement in self.recorder.statements:
            key = UNIQUE_KEYS.get(statement)
            if key is None:
                raise NotImportable(f"no bulk mapping for {statement}")
            repeated = self.conn.execute(
                f"SELECT count(*) FROM (SELECT {key} FROM bulk_{statement} GROUP BY ALL HAVING count(*) > 1)"
            ).fetchall()[0][0]
            if repeated:
                raise NotImportable(f"{statement} has {repeated} repeated keys")
        arrays = self._string_arrays() + self._all_arrays()
        for statement, expr in arrays:
            empty = self.conn.execute(
                f"SELECT count(*) FROM bulk_{statement} WHERE len({expr}) = 0 "
                f"OR list_bool_or(list_transform({expr}, lambda x: x IS NULL OR x::VARCHAR = ''))").fetchall()[0][0]
            if empty:
                raise NotImportable(f"{statement}: an empty array or array element")
        self.delimiter = self._free_delimiter(self._string_arrays())

    def _props(self):
        for spec in NODES:
            for source in spec.sources:
                if self.recorder.has(source.statement):
                    yield source.statement, source.props
        for rel in RELATIONSHIPS:
            if self.recorder.has(rel.statement):
                yield rel.statement, rel.props

    def _all_arrays(self) -> list[tuple[str, str]]:
        found = []
        for statement, props in self._props():
            for prop, expr in props:
                if _expr_type(self.conn, statement, expr).endswith("[]"):
                    found.append((statement, expr))
        return found

    def _string_arrays(self) -> list[tuple[str, str]]:
        return [(s, e) for s, e in self._all_arrays() if _expr_type(self.conn, s, e) == "VARCHAR[]"]

    def _free_delimiter(self, arrays: list[tuple[str, str]]) -> str:
        for candidate in DELIMITER_CANDIDATES:
            if not any(self.conn.execute(
                    f"SELECT count(*) FROM bulk_{s} WHERE list_bool_or(list_transform({e}, lambda x: contains(x, $d)))",
                    {"d": candidate}).fetchall()[0][0] for s, e in arrays):
                return candidate
        raise NotImportable("every array delimiter candidate occurs inside some array element")

    def _copy(self, kind: str, name: str, sql: str, strings: list[str], headers: list[str]) -> None:
        """One file per label or type (header line first), every string column quoted."""
        path = self.folder / f"{kind}-{len(self.files):02d}-{name}.csv"
        quote = ", ".join(_header(h) for h in strings)
        # once, in the column order of the header; then written and counted
        self.conn.execute(f"CREATE OR REPLACE TEMP TABLE bulk_file AS SELECT "
                          f"{', '.join(_header(h) for h in headers)} FROM ({sql})")
        self.conn.execute(
            f"COPY bulk_file TO '{path}' (FORMAT CSV, HEADER, DELIMITER ',', QUOTE '\"', ESCAPE '\"'"
            + (f", FORCE_QUOTE ({quote})" if quote else "") + ")")
        counts = ", ".join(f"count({_header(h)})" for h in headers)
        breaks = " OR ".join(f"regexp_matches({_header(h)}, '[\\r\\n]')" for h in strings) or "FALSE"
        row = self.conn.execute(f"SELECT count(*), {counts}, coalesce(bool_or({breaks}), FALSE) FROM bulk_file"
                                ).fetchall()[0]
        if kind == "nodes":
            distinct = self.conn.execute(f"SELECT count(DISTINCT {_header(headers[0])}) FROM bulk_file").fetchall()[0][0]
            if distinct != row[0]:
                raise NotImportable(f"{name}: {row[0] - distinct} keys with two different values")
        self.conn.execute("DROP TABLE bulk_file")
        # property values: every non-NULL cell but the endpoints of a relationship and an id that is not stored
        not_stored = sum(1 for h in headers if h.startswith((":ID(", ":START_ID(", ":END_ID(")))
        properties = sum(row[1:-1]) - row[0] * not_stored
        self.files.append(ImportFile(kind, name, path, row[0], properties, bool(row[-1])))

    def _typed(self, statement: str, expr: str, prop: str) -> tuple[str, str]:
        kind, template = _neo4j_type(_expr_type(self.conn, statement, expr), prop)
        return kind, template.replace("$delim", f"chr({ord(self.delimiter or DELIMITER_CANDIDATES[0])})")

    def nodes(self, spec: NodeSpec) -> None:
        sources = [s for s in spec.sources if self.recorder.has(s.statement)]
        if not sources:
            return
        # the importer's id is the key as text, not stored; the key itself is a property of its own type
        id_header = f":ID({spec.label})"
        keys = "SELECT DISTINCT k, v FROM (" + " UNION ALL ".join(
            f"SELECT ({s.key})::VARCHAR AS k, {self._key_value(spec, s)} AS v FROM bulk_{s.statement} WHERE {s.where}"
            for s in sources) + ")"
        items, headers, strings = [f"keys.k AS {_header(id_header)}"], [id_header], [id_header]
        if spec.key:
            kind, template = self._typed(sources[0].statement, sources[0].key, spec.key)
            header = f"{spec.key}:{kind}"
            items.append(f"{template.format('keys.v')} AS {_header(header)}")
            headers.append(header)
            if kind == "string":
                strings.append(header)
        joins = []
        for index, source in enumerate(s for s in sources if s.props):
            alias = f"p{index}"
            columns = []
            for prop, expr in source.props:
                kind, template = self._typed(source.statement, expr, prop)
                header = f"{prop}:{kind}"
                columns.append(f"{template.format('(' + expr + ')')} AS {_header(header)}")
                items.append(f"{alias}.{_header(header)}")
                headers.append(header)
                if kind in ("string", "datetime") or kind.endswith("[]"):
                    strings.append(header)
            # DISTINCT: several rows of one key carry one value (an ASN's name on each of its networks)
            joins.append(f"LEFT JOIN (SELECT DISTINCT ({source.key})::VARCHAR AS k, {', '.join(columns)} "
                         f"FROM bulk_{source.statement} WHERE {source.where}) {alias} ON {alias}.k = keys.k")
        sql = f"SELECT {', '.join(items)} FROM ({keys}) keys {' '.join(joins)}"
        self._copy("nodes", spec.label, sql, strings, headers)

    @staticmethod
    def _key_value(spec: NodeSpec, source: Source) -> str:
        return f"({source.key})" if spec.key else "NULL"

    def relationships(self, rel: RelSpec) -> None:
        if not self.recorder.has(rel.statement):
            return
        if not self.conn.execute(f"SELECT count(*) FROM bulk_{rel.statement} WHERE {rel.where}").fetchall()[0][0]:
            return
        start, end = f":START_ID({rel.start[0]})", f":END_ID({rel.end[0]})"
        items = [f"({rel.start[1]})::VARCHAR AS {_header(start)}", f"({rel.end[1]})::VARCHAR AS {_header(end)}"]
        headers, strings = [start, end], [start, end]
        for prop, expr in rel.props:
            kind, template = self._typed(rel.statement, expr, prop)
            header = f"{prop}:{kind}"
            items.append(f"{template.format('(' + expr + ')')} AS {_header(header)}")
            headers.append(header)
            if kind in ("string", "datetime") or kind.endswith("[]"):
                strings.append(header)
        sql = f"SELECT {', '.join(items)} FROM bulk_{rel.statement} WHERE {rel.where}"
        self._copy("relationships", rel.type, sql, strings, headers)

    def write_all(self) -> list[ImportFile]:
        self.check()
        for spec in NODES:
            self.nodes(spec)
        for rel in RELATIONSHIPS:
            self.relationships(rel)
        return self.files


# ---------------------------------------------------------------- the import


def _delimiter_arg(char: str) -> str:
    return f"U+{ord(char):04X}"


def import_command(java: str, files: list[ImportFile], delimiter: str, database: str, report: Path) -> list[str]:
    paths = managed_paths()
    cmd = [java, f"-Xmx{setting('LINKWATCH_NEO4J_HEAP')}", "-cp", f"{paths.lib_dir}/*", runtime.ADMIN_TOOL,
           "database", "import", "full", "--verbose", "--overwrite-destination=true",
           f"--array-delimiter={_delimiter_arg(delimiter or DELIMITER_CANDIDATES[0])}",
           f"--max-off-heap-memory={setting('LINKWATCH_LOAD_BULK_MEMORY')}",
           f"--report-file={report}"]
    if any(f.multiline for f in files):
        cmd.append("--multiline-fields=true")
    for f in files:
        option = "--nodes" if f.kind == "nodes" else "--relationships"
        cmd.append(f"{option}={f.name}={f.path}")
    cmd += ["--", database]
    return cmd


def _import_error(output: str) -> str:
    """The importer's root cause, on one line: the last ``Caused by`` (with --verbose), else the last error."""
    lines = [line.strip() for line in output.splitlines() if line.strip() and not line.strip().startswith("at ")]
    causes = [line for line in lines if line.startswith("Caused by:") or "Exception:" in line]
    errors = [line for line in lines if "rror" in line and "--verbose" not in line]
    detail = (causes or errors or lines or ["no output"])[-1]
    if "Exception: " in detail:  # the message, without the Java class that carries it
        detail = detail.split("Exception: ", 1)[1]
    return detail[:300]


def _remove_store(database: str) -> None:
    """Delete a partly imported store: the server then starts the database empty again."""
    paths = managed_paths()
    for folder in (paths.data_dir / "databases" / database, paths.data_dir / "transactions" / database):
        shutil.rmtree(folder, ignore_errors=True)


def load(conn: duckdb.DuckDBPyConnection, recorder: Recorder, folder: Path, stats: neo4j_writer.WriteStats,
         log=print) -> dict[str, float]:
    """CSV files, stop, import, start, schema. Returns the seconds of each phase. Raises NotImportable before
    anything happened to the server when the rows cannot be imported unchanged."""
    phases: dict[str, float] = {}
    started = time.monotonic()
    writer = CsvWriter(conn, recorder, folder)
    files = writer.write_all()
    phases["write CSV files"] = time.monotonic() - started
    database = connection().database
    java = runtime.find_java()
    report = folder / "import.report"
    cmd = import_command(java, files, writer.delimiter, database, report)

    mark = time.monotonic()
    db.close()
    memory = runtime.running_memory()  # the server comes back with the heap and page cache it had
    runtime.stop()
    phases["stop Neo4j"] = time.monotonic() - mark
    mark = time.monotonic()
    proc = subprocess.run(cmd, env=runtime._admin_env(managed_paths()), capture_output=True, text=True,
                          errors="replace", cwd=folder)
    phases["neo4j-admin import"] = time.monotonic() - mark
    failure = None
    if proc.returncode != 0:
        failure_detail = _import_error(proc.stdout + "\n" + proc.stderr)
        failure = f"neo4j-admin database import failed (exit code {proc.returncode}): {failure_detail}"
        _remove_store(database)
    mark = time.monotonic()
    try:
        runtime.start(log=log, **memory)
    except LinkwatchError as exc:
        state = ("the database is empty again" if failure else "the data is imported but its constraints and "
                 "indexes are not")
        raise BulkImportFailed(f"{failure + '; ' if failure else ''}Neo4j did not start again after the bulk "
                               f"import ({exc}); {state}: run `linkwatch neo4j start`, then the same "
                               "`linkwatch load` again") from exc
    phases["start Neo4j"] = time.monotonic() - mark
    mark = time.monotonic()
    db.apply_schema()
    phases["schema and indexes"] = time.monotonic() - mark
    if failure:
        raise BulkImportFailed(f"{failure}; the database is empty again and Neo4j is running: run the same "
                               "`linkwatch load` again, or with --bulk never to load transactionally")
    for statement, rows in recorder.rows.items():
        stats.rows[statement] += rows
    stats.counters["nodes_created"] += sum(f.rows for f in files if f.kind == "nodes")
    stats.counters["labels_added"] += sum(f.rows for f in files if f.kind == "nodes")
    stats.counters["relationships_created"] += sum(f.rows for f in files if f.kind == "relationships")
    stats.counters["properties_set"] += sum(f.properties for f in files)
    return phases
