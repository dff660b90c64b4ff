"""Turn every source file into a SELECT over all-VARCHAR rows, staging text formats as Parquet first."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import duckdb
from tqdm import tqdm

from loaders.formats import ip2proxy_records, maxmind_geo_records, tor_records
from loaders.rejects import RejectLog
from loaders.tables import (SYMLINK_REFUSED, FileProblem, Source, csv_header, csv_records, header_problem, jsonl_records,
                            parquet_select, physical_lines, stage_records, staged_select)


def _records(source: Source, on_bad_line, warn):
    if source.fmt in ("csv", "csv.gz", "maxmind-asn"):
        return csv_records(source.path, on_bad_line)
    if source.fmt == "jsonl":
        return jsonl_records(source.path, on_bad_line)
    if source.fmt == "ip2proxy":
        return ip2proxy_records(source.path, on_bad_line, warn)
    if source.fmt == "maxmind-geo":
        return maxmind_geo_records(source, on_bad_line, warn)
    return tor_records(source.path, on_bad_line)


def _refused(source: Source, seen: set[Path]) -> str | None:
    """Why a source file is not read at all, else None (and the file is remembered as read)."""
    paths = [source.path, *source.extra.get("locations", [])]
    if any(p.is_symlink() for p in paths):
        return SYMLINK_REFUSED
    resolved = source.path.resolve()
    if resolved in seen:
        return "given twice: read once (the second mention is ignored, so no row counts twice)"
    seen.add(resolved)
    return None


def _is_empty(path: Path) -> bool:
    """True when the file holds no bytes at all (after decompression for .gz)."""
    if path.stat().st_size == 0:
        return True
    try:
        return next(physical_lines(path, lambda *_: None), None) is None
    except FileProblem:
        return False


def read_sources(conn: duckdb.DuckDBPyConnection, sources: list[Source], staging: Path, log: RejectLog,
                 progress: bool) -> dict[str, list[str]]:
    """{table: [SELECT per readable file]}; rejected files and unreadable rows go to ``log``."""
    selects: dict[str, list[str]] = defaultdict(list)
    seen: set[Path] = set()
    for number, source in enumerate(tqdm(sources, desc="read", unit="file", disable=not progress)):
        file = str(source.path)
        refused = _refused(source, seen)
        if refused == SYMLINK_REFUSED:
            log.file(source.table, file, refused)
            continue
        if refused:
            log.warnings.append(f"{file}: {refused}")
            continue
        if source.fmt == "parquet":
            select = parquet_select(conn, source, log, number)
            if select:
                selects[source.table].append(select)
            continue
        if _is_empty(source.path):
            log.file(source.table, file, "empty file")
            continue
        if source.fmt in ("csv", "csv.gz", "maxmind-asn"):
            problem = header_problem(source, csv_header(source) or [])
            if problem:
                log.file(source.table, file, problem, line=1)
                continue

        def on_bad_line(line: int, reason: str, table=source.table) -> None:
            log.row(table, file, line, "", reason)

        staged = stage_records(source, _records(source, on_bad_line, log.warnings.append),
                               staging / f"{number:05d}.parquet", log)
        selects[source.table].append(staged_select(source, staged, number))
    return dict(selects)
