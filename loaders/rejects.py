"""Rejected rows and files: collected while reading and validating, written as one CSV.

A reject names the file, the physical line (CSV/JSONL, header = line 1) or the
0-based row index (Parquet), the column and the reason, so a person can fix the input.
Rejects found in SQL stay in DuckDB (there can be millions); they meet the ones found
while reading in Python in one DuckDB table, which is copied to the rejects file.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from loaders.tables import sql_text

REASON_GROUPS = 20  # lines of the summary's "rejected, by reason" table
QUOTED_VALUE = "'''.*'''"  # SQL literal of the regex '.*' (a reason quotes the bad value)
REJECTS_TABLE = "CREATE TABLE IF NOT EXISTS rejects (file VARCHAR, line BIGINT, \"column\" VARCHAR, reason VARCHAR)"


@dataclass
class RejectLog:
    """Rejects of one load and per-table counts of rejected rows and whole files."""

    found_in_python: list[tuple[str, int | None, str, str]] = field(default_factory=list)
    rejected_rows: Counter = field(default_factory=Counter)  # table -> rows rejected
    rejected_on_read: Counter = field(default_factory=Counter)  # table -> rows rejected before reaching SQL
    rejected_files: Counter = field(default_factory=Counter)  # table -> files rejected whole
    warnings: list[str] = field(default_factory=list)

    def file(self, table: str, file: str, reason: str, line: int | None = None) -> None:
        self.found_in_python.append((file, line, "", reason))
        self.rejected_files[table] += 1

    def row(self, table: str, file: str, line: int, column: str, reason: str) -> None:
        """One row rejected while reading (before validation)."""
        self.found_in_python.append((file, line, column, reason))
        self.rejected_rows[table] += 1
        self.rejected_on_read[table] += 1

    @property
    def any(self) -> bool:
        return bool(self.rejected_rows.total() or self.rejected_files.total())

    def write(self, conn: duckdb.DuckDBPyConnection, path: Path) -> list[tuple]:
        """Every reject, sorted by file and line, as CSV with header file,line,column,reason.

        Returns the reasons grouped for the summary: (count, file name, column, reason with its quoted value
        replaced by '...', first line), the most frequent first, at most REASON_GROUPS of them."""
        conn.execute(REJECTS_TABLE)
        if self.found_in_python:
            files, lines, columns, reasons = zip(*self.found_in_python)
            found = pa.table({"file": pa.array(files, pa.string()), "line": pa.array(lines, pa.int64()),
                              "column": pa.array(columns, pa.string()), "reason": pa.array(reasons, pa.string())})
            conn.register("python_rejects", found)
            conn.execute("INSERT INTO rejects SELECT * FROM python_rejects")
            conn.unregister("python_rejects")
            self.found_in_python.clear()
        path.parent.mkdir(parents=True, exist_ok=True)
        conn.execute(f"COPY (SELECT * FROM rejects ORDER BY file, line NULLS FIRST, \"column\", reason) "
                     f"TO {sql_text(str(path))} (HEADER, DELIMITER ',')")
        # the value a reason quotes ('yesterday') differs row by row: the shape of the reason is what groups
        groups = conn.execute(
            f"SELECT count(*) AS n, file, \"column\", regexp_replace(reason, {QUOTED_VALUE}, '''...''') AS shape, "
            f"min(line) FROM rejects GROUP BY ALL ORDER BY n DESC, file, shape LIMIT {REASON_GROUPS}").fetchall()
        return [(n, Path(file).name, column, shape, line if line is not None else "-")
                for n, file, column, shape, line in groups]
