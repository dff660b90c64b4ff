"""Write bundle tables: plain CSV (readable, demo) or Parquet (large scales, requests in part files)."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

CSV_OPTIONS = pcsv.WriteOptions(quoting_style="needed")
PARQUET_COMPRESSION = "zstd"


class BundleWriter:
    """Writes one bundle folder; ``fmt`` is "csv" or "parquet" for the data tables."""

    def __init__(self, folder: Path, fmt: str):
        self.folder, self.fmt = folder, fmt
        self._csv_requests: pcsv.CSVWriter | None = None
        self._parts = 0

    def table(self, name: str, table: pa.Table, *sort_keys: str | None) -> int:
        """Write a whole table sorted by ``sort_keys``; returns its row count."""
        table = _sorted(table, sort_keys)
        if self.fmt == "csv":
            self.csv(name, table)
        else:
            pq.write_table(table, self.folder / f"{name}.parquet", compression=PARQUET_COMPRESSION)
        return table.num_rows

    def csv(self, name: str, table: pa.Table, *sort_keys: str | None) -> None:
        """A table that is always CSV (ground truth files read by people and scripts)."""
        pcsv.write_csv(_plain(_sorted(table, sort_keys)), self.folder / f"{name}.csv", CSV_OPTIONS)

    def requests(self, table: pa.Table) -> None:
        """Append one chunk of requests: to requests.csv, or as the next requests/part-NNNNN.parquet."""
        if self.fmt == "csv":
            table = _plain(table)
            if self._csv_requests is None:
                self._csv_requests = pcsv.CSVWriter(self.folder / "requests.csv", table.schema, write_options=CSV_OPTIONS)
            self._csv_requests.write_table(table)
        else:
            folder = self.folder / "requests"
            folder.mkdir(exist_ok=True)
            pq.write_table(table, folder / f"part-{self._parts:05d}.parquet", compression=PARQUET_COMPRESSION)
        self._parts += 1

    def close(self) -> None:
        if self._csv_requests is not None:
            self._csv_requests.close()


def _sorted(table: pa.Table, keys: tuple[str | None, ...]) -> pa.Table:
    keys = [k for k in keys if k]
    return table.sort_by([(k, "ascending") for k in keys]) if keys else table


def _plain(table: pa.Table) -> pa.Table:
    """Dictionary columns decoded to plain strings (CSV has no dictionaries)."""
    return pa.table({name: (column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column)
                     for name, column in zip(table.column_names, table.columns)})
