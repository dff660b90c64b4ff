"""Find the tables of a bundle and read them into DuckDB as all-VARCHAR rows with their line numbers.

CSV and JSONL files are read once in Python (the only way to know the physical line of
every record, to name the line of a non-UTF-8 byte, and to tell a truncated gzip from a
short file) and staged as Parquet; Parquet files are read by DuckDB in place. Either way
each table becomes a DuckDB view ``raw_<table>(_file, _line, <bundle columns>)`` where
every value is a VARCHAR (trimmed, except free text) and an empty cell is NULL. Timestamp and
count columns also keep the Parquet value as ``_typed_<column>`` (NULL for text formats and
untyped columns), so validation can skip parsing text for values that are already typed.
"""
from __future__ import annotations

import csv
import gzip
import json
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from graph.errors import LinkwatchError
from graph.config import setting
from loaders.spec import TABLES, Column

if TYPE_CHECKING:
    from loaders.rejects import RejectLog

FORMATS = {".csv.gz": "csv.gz", ".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet"}
# rule -> (SQL type of _typed_<column>, Parquet column types read as such; any other type is read as text only)
TYPED_RULES = {
    "timestamp": ("TIMESTAMPTZ", {"TIMESTAMP WITH TIME ZONE", "TIMESTAMP"}),
    "count": ("BIGINT", {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}),
}
STAGE_BATCH_ROWS = 100_000



@dataclass
class Source:
    """One input file of one table, with how to read it."""

    table: str
    path: Path
    fmt: str  # csv | csv.gz | jsonl | parquet | maxmind-asn | maxmind-geo | ip2proxy | tor-exits
    rename: dict[str, str] = field(default_factory=dict)  # input column -> bundle column
    constants: dict[str, str] = field(default_factory=dict)  # bundle column -> value for every row
    extra: dict = field(default_factory=dict)  # format-specific inputs (maxmind-geo: the locations files)


SYMLINK_REFUSED = ("symbolic link refused: its target is not read (copy the file into the input folder); "
                   "a link could make the loader read, and echo into rejects, a file outside the input")


def file_format(path: Path) -> tuple[str, str] | None:
    """(table name, format) from a file name such as ``links.csv.gz``; None when not a bundle file."""
    for suffix, fmt in FORMATS.items():
        if path.name.endswith(suffix):
            return path.name[: -len(suffix)], fmt
    return None


def discover(paths: list[Path], log: RejectLog) -> list[Source]:
    """The bundle files under ``paths`` (folders or single files named after their table)."""
    sources: list[Source] = []
    for path in paths:
        if not path.exists():
            raise LinkwatchError(f"{path}: no such file or folder")
        if path.is_file():
            found = file_format(path)
            if found is None or found[0] not in TABLES:
                raise LinkwatchError(
                    f"{path}: not a bundle table file (expected one of {', '.join(TABLES)} with .csv, .csv.gz, .jsonl "
                    "or .parquet); use --format or --mapping for other files"
                )
            sources.append(Source(found[0], path, found[1]))
            continue
        for entry in sorted(path.iterdir()):
            found = file_format(entry) if entry.is_file() or entry.is_symlink() else None
            if found and found[0] in TABLES:
                sources.append(Source(found[0], entry, found[1]))
            elif entry.is_symlink() and entry.name in TABLES:
                log.file(entry.name, str(entry), SYMLINK_REFUSED)
            elif entry.is_dir() and entry.name in TABLES:
                sources.extend(_part_files(entry, log))
            else:
                log.warnings.append(f"{entry}: ignored (not a bundle table)")
    return sources


def _part_files(folder: Path, log: RejectLog) -> list[Source]:
    """A table split into part files, all of one format."""
    parts = []
    for entry in sorted(folder.iterdir()):
        found = file_format(entry) if entry.is_file() or entry.is_symlink() else None
        if found is None:
            log.warnings.append(f"{entry}: ignored (not a .csv, .csv.gz, .jsonl or .parquet part file)")
        else:
            parts.append(Source(folder.name, entry, found[1]))
    formats = {p.fmt for p in parts}
    if len(formats) > 1:
        raise LinkwatchError(f"{folder}: part files mix formats ({', '.join(sorted(formats))}); use one format per table")
    return parts


# ------------------------------------------------------------------ reading text files


class FileProblem(Exception):
    """The file cannot be read further (truncated or corrupt gzip); rows before it stand."""


def _bounded_lines(handle, limit: int) -> Iterator[bytes | None]:
    """Raw lines of at most ``limit`` bytes (plus the newline); None for a longer line, whose bytes are
    skipped in chunks and never held in memory together."""
    while True:
        raw = handle.readline(limit + 1)
        if not raw:
            return
        if len(raw) <= limit or raw.endswith(b"\n"):
            yield raw
            continue
        while raw and not raw.endswith(b"\n"):
            raw = handle.readline(1 << 20)
        yield None


def physical_lines(path: Path, on_bad_line: Callable[[int, str], None]) -> Iterator[tuple[int, str]]:
    """(line number, text) of every physical line; undecodable or over-long lines are reported and read as empty."""
    opener = gzip.open if path.name.endswith(".gz") else open
    limit = int(setting("LINKWATCH_LOAD_MAX_LINE_BYTES"))
    number = 0
    pending: bytes | None = None  # a line is passed on only once the next read succeeded (see below)
    started = False
    try:
        with opener(path, "rb") as handle:
            for raw in _bounded_lines(handle, limit):
                if started:
                    yield _decoded(number, pending, on_bad_line, limit)
                number += 1
                pending, started = raw, True
    except EOFError as exc:
        # a truncated stream can hand back a cut-off last line before failing: drop it unless complete
        if started and (pending is None or pending.endswith(b"\n")):
            yield _decoded(number, pending, on_bad_line, limit)
            number += 1
        raise FileProblem(f"truncated gzip: the compressed stream ends after line {max(number - 1, 0)}") from exc
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise FileProblem(f"corrupt gzip after line {max(number - 1, 0)}: {exc}") from exc
    if started:
        yield _decoded(number, pending, on_bad_line, limit)


def _decoded(number: int, raw: bytes | None, on_bad_line: Callable[[int, str], None],
             limit: int) -> tuple[int, str]:
    """(number, text) of one physical line; an undecodable or over-long line is reported and read as empty."""
    if raw is None:
        on_bad_line(number, f"line longer than {limit:,} bytes (LINKWATCH_LOAD_MAX_LINE_BYTES): not read")
        return number, "\n"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        on_bad_line(number, f"not UTF-8: byte 0x{raw[exc.start]:02x} at position {exc.start + 1}")
        return number, "\n"
    return number, text.removeprefix("\ufeff") if number == 1 else text


def csv_rows(path: Path, on_bad_line: Callable[[int, str], None]) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, fields) of every non-blank CSV record (quoted fields may span lines)."""
    position = {"line": 0}

    def lines() -> Iterator[str]:
        for number, text in physical_lines(path, on_bad_line):
            position["line"] = number
            yield text

    previous_end = 0
    csv.field_size_limit(int(setting("LINKWATCH_LOAD_MAX_LINE_BYTES")))  # a quoted field spanning many lines too
    reader = csv.reader(lines())
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # the reader starts afresh on the next line
            start, previous_end = previous_end + 1, position["line"]
            on_bad_line(start, f"unreadable CSV record: {exc}")
            continue
        start, previous_end = previous_end + 1, position["line"]
        if record and record != [""]:
            yield start, record


def csv_records(path: Path, on_bad_line: Callable[[int, str], None]) -> Iterator[tuple[int, dict[str, str] | str]]:
    """(first line, {column: value}) per record after the header; (line, reason) for a record of the wrong width."""
    rows = csv_rows(path, on_bad_line)
    first = next(rows, None)
    if first is None:
        return
    header = [name.strip() for name in first[1]]
    if duplicate_names(header):  # the file is refused as a whole (read_sources checks the header first)
        return
    for start, record in rows:
        if len(record) != len(header):
            yield start, f"expected {len(header)} fields, found {len(record)}"
        else:
            yield start, dict(zip(header, record))


def jsonl_records(path: Path, on_bad_line: Callable[[int, str], None]) -> Iterator[tuple[int, dict[str, str]] | tuple[int, str]]:
    """(line, {key: value as text}) per JSON object line; (line, reason) for a line that is not one."""
    max_depth = int(setting("LINKWATCH_LOAD_MAX_JSON_DEPTH"))
    for number, text in physical_lines(path, on_bad_line):
        if not text.strip():
            continue
        if text.count("[") + text.count("{") > max_depth and json_depth(text) > max_depth:
            yield number, f"JSON nested deeper than {max_depth} levels (LINKWATCH_LOAD_MAX_JSON_DEPTH): not parsed"
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            yield number, f"invalid JSON: {exc.msg} at column {exc.colno}"
            continue
        if not isinstance(value, dict):
            yield number, "not a JSON object"
            continue
        yield number, {k: _as_text(v) for k, v in value.items()}


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in a JSON text (brackets inside strings do not count),
    found without parsing, so a line nested 200,000 deep costs no recursion."""
    depth = deepest = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _as_text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value)


# ------------------------------------------------------------------ staging to Parquet


def stage_records(source: Source, records, out: Path, log: RejectLog) -> Path:
    """Write the records of one file as Parquet (``_line`` + the table's columns, all strings).

    Records that are a reason (str) instead of a dict are rejected rows; unknown columns are warned about.
    """
    table = TABLES[source.table]
    columns = table.column_names
    file = str(source.path)
    seen_columns: set[str] = set()
    writer = None
    batch: dict[str, list] = {name: [] for name in ["_line", *columns]}

    def flush() -> None:
        nonlocal writer
        arrays = pa.table({"_line": pa.array(batch["_line"], pa.int64()),
                           **{c: pa.array(batch[c], pa.string()) for c in columns}})
        if writer is None:
            writer = pq.ParquetWriter(out, arrays.schema)
        writer.write_table(arrays)
        for values in batch.values():
            values.clear()

    try:
        for line, record in records:
            if isinstance(record, str):
                log.row(source.table, file, line, "", record)
                continue
            record = {source.rename.get(k, k): v for k, v in record.items()}
            if record.keys() - seen_columns:
                seen_columns |= record.keys()
            batch["_line"].append(line)
            for name in columns:
                batch[name].append(source.constants.get(name, record.get(name)))
            if len(batch["_line"]) >= STAGE_BATCH_ROWS:
                flush()
    except FileProblem as exc:
        log.file(source.table, file, str(exc))
    if writer is None or batch["_line"]:  # the last, partial batch (or an empty file's schema)
        flush()
    writer.close()
    _check_columns(source, seen_columns, log)
    return out


def _check_columns(source: Source, seen: set[str], log: RejectLog) -> None:
    table = TABLES[source.table]
    unknown = sorted(seen - set(table.column_names))
    if unknown:
        log.warnings.append(f"{source.path}: ignored unknown column(s) {', '.join(unknown)} "
                            f"({source.table} has {', '.join(table.column_names)})")


def duplicate_names(names: list[str]) -> list[str]:
    """Column names that appear more than once."""
    seen: set[str] = set()
    return sorted({n for n in names if n in seen or seen.add(n)})


def header_problem(source: Source, present: set[str] | list[str]) -> str | None:
    """A reason to reject the whole file when a column name repeats (after renaming) or a required column is
    absent, else None."""
    if isinstance(present, list):
        repeated = duplicate_names(present)
        if repeated:
            return (f"duplicate column name(s) {', '.join(repr(n) for n in repeated)} in the header (after the "
                    "mapping's renames): which one holds the value is ambiguous, rename one")
        present = set(present)
    table = TABLES[source.table]
    missing = [c.name for c in table.columns if c.required and c.name not in present and c.name not in source.constants]
    if missing:
        return f"missing required column(s) {', '.join(missing)} (found: {', '.join(sorted(present)) or 'none'})"
    return None


def csv_header(source: Source) -> list[str] | None:
    """The (renamed) header names of a CSV file; None when the file is empty or unreadable."""
    try:
        for _, text in physical_lines(source.path, lambda *_: None):
            names = next(csv.reader([text]), [])
            return [source.rename.get(n.strip(), n.strip()) for n in names]
    except FileProblem:
        return None
    return None


def sql_text(value: str) -> str:
    """A SQL string literal (for file paths, which DuckDB views cannot take as parameters)."""
    return "'" + value.replace("'", "''") + "'"


def parquet_select(conn: duckdb.DuckDBPyConnection, source: Source, log: RejectLog, number: int) -> str | None:
    """SELECT text reading a Parquet file in place, or None when the file is rejected."""
    try:
        described = conn.execute(f"DESCRIBE SELECT * FROM read_parquet({sql_text(str(source.path))})").fetchall()
    except duckdb.Error as exc:
        reason = "empty file" if source.path.stat().st_size == 0 else f"unreadable Parquet: {str(exc).splitlines()[0]}"
        log.file(source.table, str(source.path), reason)
        return None
    present = {source.rename.get(row[0], row[0]): row[0] for row in described}
    types = {source.rename.get(row[0], row[0]): row[1] for row in described}
    problem = header_problem(source, set(present))
    if problem:
        log.file(source.table, str(source.path), problem)
        return None
    _check_columns(source, set(present), log)
    table = TABLES[source.table]
    selected = []
    for name in table.column_names:
        if name in source.constants:
            selected.append(f"{sql_text(source.constants[name])} AS {name}")
        elif name in present:
            selected.append(f'CAST("{present[name]}" AS VARCHAR) AS {name}')
        else:
            selected.append(f"NULL::VARCHAR AS {name}")
    for column in typed_columns(source.table):
        sql_type, accepted = TYPED_RULES[column.rule]
        if column.name in present and column.name not in source.constants and types[column.name] in accepted:
            selected.append(f'CAST("{present[column.name]}" AS {sql_type}) AS _typed_{column.name}')
        else:
            selected.append(f"NULL::{sql_type} AS _typed_{column.name}")
    return (f"SELECT {sql_text(str(source.path))} AS _file, {number} AS _source, file_row_number AS _line, "
            f"{', '.join(selected)} "
            f"FROM read_parquet({sql_text(str(source.path))}, file_row_number=true)")


def typed_columns(table_name: str) -> list[Column]:
    """The columns of a table that also carry a ``_typed_<column>`` value (see TYPED_RULES)."""
    return [c for c in TABLES[table_name].columns if c.rule in TYPED_RULES]


def staged_select(source: Source, staged: Path, number: int) -> str:
    columns = ", ".join([*TABLES[source.table].column_names,
                         *(f"NULL::{TYPED_RULES[c.rule][0]} AS _typed_{c.name}" for c in typed_columns(source.table))])
    return (f"SELECT {sql_text(str(source.path))} AS _file, {number} AS _source, _line, {columns} "
            f"FROM read_parquet({sql_text(str(staged))})")


def create_raw_views(conn: duckdb.DuckDBPyConnection, selects: dict[str, list[str]]) -> None:
    """One view per table over all its files: VARCHAR values, empty cell = NULL."""
    for table_name, parts in selects.items():
        cleaned = ", ".join(f"NULLIF({'trim(' + c.name + ')' if c.trim else c.name}, '') AS {c.name}"
                            for c in TABLES[table_name].columns)
        typed = "".join(f", _typed_{c.name}" for c in typed_columns(table_name))
        union = " UNION ALL ".join(f"({p})" for p in parts)
        conn.execute(f"CREATE OR REPLACE VIEW raw_{table_name} AS SELECT _file, _source, _line, {cleaned}{typed} "
                     f"FROM ({union})")
