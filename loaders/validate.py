"""Validate every table in DuckDB SQL: one pass computes each row's problems and normalised values.

For each table ``raw_<t>`` this creates the table ``checked_<t>`` (normalised columns n_<c> plus a
``problems`` list of {column, reason}), inserts one reject per problem into ``rejects``, and creates
``valid_<t>`` from the rows without problems, merged by the table's rule (loaders/spec.py): events
sharing a key are aggregated (count, first/last time, sums), entity rows sharing a key merge their
values (a missing value never conflicts; real conflicts follow the precedence and become warnings).
Only the few distinct non-IPv4 addresses and the networks are checked in Python (``ipaddress``);
everything per-row stays in SQL.
"""
from __future__ import annotations

import ipaddress
from pathlib import Path

import duckdb
import pyarrow as pa

from graph.config import setting
from loaders.rejects import REJECTS_TABLE, RejectLog
from loaders.spec import TABLES, Column, Table

IPV4_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4 = rf"{IPV4_OCTET}(\.{IPV4_OCTET}){{3}}"
KIND = "[a-z][a-z0-9_]*"


def _timestamp(v: str) -> str:
    epoch = rf"regexp_full_match({v}, '[0-9]{{1,11}}(\.[0-9]+)?')"
    iso = rf"regexp_full_match({v}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}([T ].*)?')"
    return (f"CASE WHEN {epoch} THEN to_timestamp({v}::DOUBLE) "
            f"WHEN {iso} THEN TRY_CAST({v} AS TIMESTAMPTZ) END")


# a typed Parquet value is taken as is only where its text form would pass the text rule too
TYPED_FAST = {
    "timestamp": "BETWEEN TIMESTAMPTZ '0001-01-01 00:00:00+00' AND TIMESTAMPTZ '9999-12-31 23:59:59.999999+00'",
    "count": "BETWEEN 0 AND 999999999999999999",
}


def _normalised(column: Column, typed: bool = False) -> str:
    """SQL for the normalised value of a column (NULL when absent or invalid).

    With ``typed``, a ``_typed_<column>`` value from a typed Parquet column skips the text parse
    (the costliest part of validating typed files); the text rule still decides every other value.
    """
    v = column.name
    rule = column.rule
    if typed and rule in TYPED_FAST:
        return f"CASE WHEN _typed_{v} {TYPED_FAST[rule]} THEN _typed_{v} ELSE {_normalised(column)} END"
    if rule == "timestamp":
        return _timestamp(v)
    if rule == "ip":
        return f"CASE WHEN regexp_full_match({v}, '{IPV4}') THEN {v} ELSE (SELECT o.canonical FROM ip_other o WHERE o.raw = {v}) END"
    if rule == "network":
        return f"(SELECT p.cidr FROM networks_parsed p WHERE p.raw = {v})"
    if rule == "kind":
        return f"CASE WHEN regexp_full_match({v}, '{KIND}') THEN {v} END"
    if rule == "count":
        return f"CASE WHEN regexp_full_match({v}, '[0-9]{{1,18}}') THEN {v}::BIGINT END"
    if rule == "number":
        return f"CASE WHEN regexp_full_match({v}, '-?[0-9]{{1,15}}(\\.[0-9]{{1,12}})?') THEN {v}::DOUBLE END"
    if rule == "asn":
        return f"CASE WHEN regexp_full_match({v}, '(AS|as)?[0-9]{{1,10}}') THEN ltrim(lower({v}), 'as')::BIGINT END"
    if rule == "country":
        return f"CASE WHEN regexp_full_match({v}, '[A-Za-z]{{2}}') THEN upper({v}) END"
    if rule == "choice":
        allowed = ", ".join(f"'{c}'" for c in column.choices)
        return f"CASE WHEN lower({v}) IN ({allowed}) THEN lower({v}) END"
    if rule == "lower":
        return f"lower({v})"
    if rule == "digest":
        return f"hash({v})"
    return v


def _invalid_reason(column: Column) -> str:
    """SQL for the reason an present value fails its rule."""
    v = column.name
    quoted = quoted_sql(v)
    if column.rule == "count":
        return (f"CASE WHEN regexp_full_match({v}, '-[0-9]+') THEN 'negative {v} ' || {v} "
                f"ELSE 'bad {v} ' || {quoted} || ' (a whole number expected)' END")
    reasons = {
        "timestamp": f"'bad timestamp ' || {quoted} || ' (ISO-8601 or epoch seconds expected)'",
        "ip": f"'bad IP ' || {quoted}",
        "network": f"'bad CIDR ' || {quoted}",
        "kind": f"'unknown kind ' || {quoted} || ' (a kind is a lowercase word: {KIND})'",
        "number": f"'bad {v} ' || {quoted} || ' (a decimal number expected)'",
        "asn": f"'bad ASN ' || {quoted} || ' (a number, optionally prefixed AS)'",
        "country": f"'bad country ' || {quoted} || ' (ISO 3166 alpha-2 code expected)'",
        "choice": f"'unknown {v} ' || {quoted} || ' (expected {'|'.join(column.choices)})'",
    }
    return reasons[column.rule]


def _problem(column: str, reason: str) -> str:
    return f"{{'column': '{column}', 'reason': {reason}}}"


CROSS_CHECKS = {
    # first_seen after last_seen
    "seen_order": lambda: (
        "n_first_seen > n_last_seen",
        _problem("last_seen", "'last_seen ' || last_seen || ' is before first_seen ' || first_seen"),
    ),
    # links of kind ip must carry an IP address as their value
    "ip_link_value": lambda: (
        "n_kind = 'ip' AND n_ip_value IS NULL",
        _problem("value", "'bad IP ' || " + quoted_sql("value")),
    ),
}


def checked_sql(table: Table) -> str:
    """SELECT of a table's rows with normalised values (n_<column>) and the list of problems."""
    normalised = [f"{_normalised(c, typed=True)} AS n_{c.name}" for c in table.columns]
    if "ip_link_value" in table.checks:
        ip_rule = Column("value", "ip")
        normalised.append(f"{_normalised(ip_rule)} AS n_ip_value")
    problems = []
    max_bytes = int(setting("LINKWATCH_LOAD_MAX_VALUE_BYTES"))
    for c in table.columns:
        if c.rule != "digest":  # a digested value (prompt) is stored as its hash, whatever its length
            # checked before writing: Neo4j refuses index keys over about 8 KB, and mid-load
            too_long = (f"'value longer than {max_bytes:,} bytes (LINKWATCH_LOAD_MAX_VALUE_BYTES): ' "
                        f"|| strlen({c.name}) || ' bytes'")
            problems.append(f"CASE WHEN strlen({c.name}) > {max_bytes} THEN {_problem(c.name, too_long)} END")
        if c.required:
            problems.append(f"CASE WHEN {c.name} IS NULL THEN {_problem(c.name, repr('missing required field ' + c.name))} END")
        if c.rule not in ("text", "lower", "digest"):
            problems.append(f"CASE WHEN {c.name} IS NOT NULL AND n_{c.name} IS NULL THEN {_problem(c.name, _invalid_reason(c))} END")
    for check in table.checks:
        condition, problem = CROSS_CHECKS[check]()
        problems.append(f"CASE WHEN {condition} THEN {problem} END")
    # an IP link's value is stored in canonical form (IPv6 compressed) so spellings of one address merge
    replace = " REPLACE (CASE WHEN n_kind = 'ip' THEN n_ip_value ELSE n_value END AS n_value)" if "ip_link_value" in table.checks else ""
    return (f"SELECT *{replace}, list_filter([{', '.join(problems)}], lambda p: p IS NOT NULL) AS problems "
            f"FROM (SELECT *, {', '.join(normalised)} FROM raw_{table.name})")


IPV4_MAPPED = ipaddress.ip_network("::ffff:0:0/96")


def canonical_address(raw: str) -> str:
    """An address as stored: IPv6 compressed, an IPv4-mapped IPv6 address as its IPv4 twin (one address)."""
    address = ipaddress.ip_address(raw)
    if address.version == 6 and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return address.compressed


def canonical_network(raw: str) -> str:
    """A network as stored: host bits cleared, an IPv4-mapped IPv6 network (::ffff:0:0/96 and inside it) as
    its IPv4 twin, so an IPv6 feed and an IPv4 feed describing the same range give one network."""
    network = ipaddress.ip_network(raw, strict=False)
    if network.version == 6 and network.subnet_of(IPV4_MAPPED):
        return str(ipaddress.ip_network((network.network_address.ipv4_mapped, network.prefixlen - 96)))
    return network.compressed


def register_addresses(conn: duckdb.DuckDBPyConnection, tables: set[str]) -> None:
    """Check in Python the distinct values SQL cannot: non-IPv4 addresses and networks."""
    candidates: list[str] = []
    if "requests" in tables:
        candidates += [r[0] for r in conn.execute(
            f"SELECT DISTINCT ip FROM raw_requests WHERE ip IS NOT NULL AND NOT regexp_full_match(ip, '{IPV4}')").fetchall()]
    if "links" in tables:
        candidates += [r[0] for r in conn.execute(
            f"SELECT DISTINCT value FROM raw_links WHERE kind = 'ip' AND value IS NOT NULL "
            f"AND NOT regexp_full_match(value, '{IPV4}')").fetchall()]
    raws, ips = [], []
    for raw in set(candidates):
        try:
            ips.append(canonical_address(raw))
            raws.append(raw)
        except ValueError:
            pass
    conn.register("ip_other_arrow", pa.table({"raw": pa.array(raws, pa.string()), "canonical": pa.array(ips, pa.string())}))
    conn.execute("CREATE OR REPLACE TABLE ip_other AS SELECT * FROM ip_other_arrow")
    conn.unregister("ip_other_arrow")

    raws, cidrs = [], []
    if "ip_intel" in tables:
        for (raw,) in conn.execute("SELECT DISTINCT network FROM raw_ip_intel WHERE network IS NOT NULL").fetchall():
            try:
                cidrs.append(canonical_network(raw))
                raws.append(raw)
            except ValueError:
                pass
    conn.register("networks_arrow", pa.table({"raw": pa.array(raws, pa.string()), "cidr": pa.array(cidrs, pa.string())}))
    conn.execute("CREATE OR REPLACE TABLE networks_parsed AS SELECT * FROM networks_arrow")
    conn.unregister("networks_arrow")


def validate(conn: duckdb.DuckDBPyConnection, tables: set[str], log: RejectLog, prefer: str = "last") -> dict[str, int]:
    """Check every table present; returns {table: rows read by SQL}. Creates valid_<table>.

    Rows sharing a key are merged by the table's rule (spec.Table.merge): events are aggregated, entities
    merge complementary values (``prefer`` = ``last`` or ``first``: which row wins a real conflict).
    """
    conn.execute(REJECTS_TABLE)
    register_addresses(conn, tables)
    rows_read = {}
    for name in sorted(tables):
        table = TABLES[name]
        # one pass computes normalised values and problems; everything after reads this table
        kept = ", ".join(f"n_{c}" for c in table.column_names)
        conn.execute(f"CREATE OR REPLACE TABLE checked_{name} AS SELECT _file, _source, _line, {kept}, problems "
                     f"FROM ({checked_sql(table)})")
        conn.execute(f"INSERT INTO rejects SELECT _file, _line, p.column, p.reason "
                     f"FROM (SELECT _file, _line, unnest(problems) AS p FROM checked_{name} WHERE len(problems) > 0)")
        total, bad = conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE len(problems) > 0) FROM checked_{name}").fetchall()[0]
        rows_read[name] = total
        if table.merge == "event":
            _aggregate_events(conn, table)
        elif table.merge == "entity":
            _merge_entities(conn, table, prefer)
            log.warnings.extend(_conflict_warnings(conn, table, prefer))
        else:
            normalised = ", ".join(f"n_{c.name} AS {c.name}_hash" if c.rule == "digest" else f"n_{c.name} AS {c.name}"
                                   for c in table.columns)
            conn.execute(f"CREATE OR REPLACE VIEW valid_{name} AS SELECT _file, _line, {normalised} "
                         f"FROM checked_{name} WHERE len(problems) = 0")
        if bad:
            log.rejected_rows[name] += bad
    return rows_read


def _aggregate_events(conn: duckdb.DuckDBPyConnection, table: Table) -> None:
    """Rows of one key are events of one relationship: row count (or the sum of the rows' counts; a row
    without one counts once), first and last time, and sums of the numeric columns."""
    name = table.name
    key = ", ".join(f"n_{k}" for k in table.key)
    first, last = table.times[0], table.times[-1]
    count = f"sum(coalesce(n_{table.count}, 1))" if table.count else "count(*)"
    items = [*(f"n_{k} AS {k}" for k in table.key),
             f"min(n_{first}) AS first_seen", f"max(n_{last}) AS last_seen", f"{count}::BIGINT AS count",
             *(f"sum(n_{c}::DECIMAL(38, 12))::DOUBLE AS {c}" for c in table.sums)]
    conn.execute(f"CREATE OR REPLACE TABLE valid_{name} AS SELECT {', '.join(items)} "
                 f"FROM checked_{name} WHERE len(problems) = 0 GROUP BY {key} ORDER BY {key}")


def _merge_entities(conn: duckdb.DuckDBPyConnection, table: Table, prefer: str) -> None:
    """One row per key: each column takes the winning row's value among the rows that have one."""
    name = table.name
    key = ", ".join(f"n_{k}" for k in table.key)
    pick = "arg_max" if prefer == "last" else "arg_min"
    items = [*(f"n_{k} AS {k}" for k in table.key),
             *(f"max(n_{c.name}) AS {c.name}" if c.combine == "max" else
               f"{pick}(n_{c.name}, (_source, _line)) FILTER (WHERE n_{c.name} IS NOT NULL) AS {c.name}"
               for c in table.columns if c.name not in table.key)]
    conn.execute(f"CREATE OR REPLACE TABLE valid_{name} AS SELECT {', '.join(items)} "
                 f"FROM checked_{name} WHERE len(problems) = 0 GROUP BY {key} ORDER BY {key}")


CONFLICT_EXAMPLES = 3


def _conflict_warnings(conn: duckdb.DuckDBPyConnection, table: Table, prefer: str) -> list[str]:
    """One warning per column where rows of one key hold different values: how many keys, and a few examples."""
    name = table.name
    key = ", ".join(f"n_{k}" for k in table.key)
    described = " || ', ' || ".join(f"'{k}=' || {quoted_sql(f'n_{k}')}" for k in table.key)
    warnings = []
    # only keys with several rows can conflict: the per-column checks read those rows alone (usually few)
    conn.execute(f"CREATE OR REPLACE TEMP TABLE repeated_{name} AS SELECT * FROM checked_{name} "
                 f"WHERE len(problems) = 0 QUALIFY count(*) OVER (PARTITION BY {key}) > 1")
    for column in (c.name for c in table.columns if c.name not in table.key and c.combine == "prefer"):
        rows = conn.execute(
            f"SELECT {described} AS k, list(struct_pack(v := {quoted_sql(f'n_{column}')}, f := _file, l := _line) "
            f"ORDER BY _source, _line) AS places, count(*) OVER () AS keys "
            f"FROM repeated_{name} WHERE n_{column} IS NOT NULL "
            f"GROUP BY {key} HAVING count(DISTINCT n_{column}) > 1 ORDER BY min(_source), min(_line) "
            f"LIMIT {CONFLICT_EXAMPLES}").fetchall()
        if not rows:
            continue
        examples = []
        for described_key, places, _ in rows:
            seen: dict[str, str] = {}
            for place in places:
                seen.setdefault(place["v"], f"{Path(place['f']).name}:{place['l']}")
            values = list(seen.items())
            winner = values[-1] if prefer == "last" else values[0]
            shown = " vs ".join(f"{v} ({where})" for v, where in values[:3]) + (" vs ..." if len(values) > 3 else "")
            examples.append(f"{described_key}: {shown}, kept {winner[0]}")
        total = rows[0][2]
        rule = "the later file (then line) wins" if prefer == "last" else "the earlier file (then line) wins"
        warnings.append(f"{name}.{column}: {total:,} key{'s' if total != 1 else ''} with different values, "
                        f"{rule} (--prefer): " + "; ".join(examples) + ("; ..." if total > len(rows) else ""))
    return warnings


def quoted_sql(expression: str, limit: int = 60) -> str:
    """SQL: a value as quoted text for a message, cut to ``limit`` characters (a reject never echoes a whole
    huge value)."""
    text = f"{expression}::VARCHAR"
    return (f"'''' || CASE WHEN length({text}) > {limit} THEN left({text}, {limit}) || '...' "
            f"ELSE {text} END || ''''")
