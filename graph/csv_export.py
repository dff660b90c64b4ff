"""The one CSV writer of every export (campaign members, a report's campaigns.csv; the console applies the same
rule in app/static/console.js): loaded strings are attacker-chosen, and a spreadsheet runs a cell that
starts like a formula.

The rule (OWASP, "CSV injection"): a text cell that starts with ``=``, ``+``, ``-``, ``@``, a TAB or a CR gets
a leading ``'``, so spreadsheets show it as text. Numbers (int, float) are written as they are, so a negative
score stays a number; text that merely looks like one ("-1") is still prefixed. Nothing else is changed.

(The ``defusedcsv`` package was considered: it neither covers TAB and CR nor leaves cell text intact — it
rewrites ``|`` as ``\\|`` — so the rule lives here, small and tested.)
"""
from __future__ import annotations

import csv
from typing import Any, Iterable, TextIO

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """``value`` as a CSV cell that no spreadsheet evaluates."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class Writer:
    """``csv.writer`` whose every cell goes through ``cell()``."""

    def __init__(self, handle: TextIO, **fmtparams):
        self._writer = csv.writer(handle, **fmtparams)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def write_rows(handle: TextIO, header: list[str], rows: Iterable[Iterable[Any]]) -> None:
    """A header line, then one line per row (each a sequence in header order)."""
    writer = Writer(handle)
    writer.writerow(header)
    writer.writerows(rows)


def write_dicts(handle: TextIO, columns: list[str], rows: Iterable[dict]) -> None:
    """A header line, then each dict's values in ``columns`` order (missing keys are empty; others ignored)."""
    write_rows(handle, columns, ([row.get(name) for name in columns] for row in rows))
