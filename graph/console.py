"""Run an analyst's own Cypher safely: read-only by construction, bounded in time and rows.

Community Neo4j has no per-user roles, so the console guards itself, in layers:

1. a lexical screen (comments and string literals removed first) refuses what
   must never run: ``LOAD CSV``, ``CALL { … } IN TRANSACTIONS``, ``USE``,
   schema and administration commands, ``EXPLAIN``/``PROFILE``/``CYPHER``
   prefixes, and any procedure or namespaced function that is not allowlisted;
2. the server plans the query with ``EXPLAIN``: anything whose query type is
   not read-only (``r``) is refused, and every ``ProcedureCall`` and
   ``LoadCSV`` operator in the plan is checked again;
3. the query runs in a READ-mode transaction on the configured database only,
   with a server-side timeout (the server terminates it) and a row cap.

Parameters always travel as parameters; the query text is never edited.
"""
from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from typing import Any

from neo4j import READ_ACCESS
from neo4j.exceptions import ClientError, Neo4jError
from neo4j.graph import Node, Path, Relationship

from graph import db
from graph.errors import LinkwatchError

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_ROWS = 10_000

ALLOWED_PROCEDURES = frozenset({
    "db.labels", "db.relationshipTypes", "db.propertyKeys",
    "db.schema.visualization", "db.schema.nodeTypeProperties", "db.schema.relTypeProperties",
    "gds.version", "gds.list",
})
# Namespaced functions: Cypher's own temporal/spatial/vector namespaces and a few GDS helpers.
ALLOWED_FUNCTION_PREFIXES = ("date.", "datetime.", "localdatetime.", "localtime.", "time.", "duration.",
                             "point.", "vector.")
ALLOWED_FUNCTIONS = frozenset({"gds.util.asNode", "gds.util.asNodes", "gds.version",
                               "gds.similarity.jaccard", "gds.similarity.overlap", "gds.similarity.cosine"})
ALLOWED_SHOW = ("SHOW INDEXES", "SHOW INDEX", "SHOW CONSTRAINTS", "SHOW CONSTRAINT",
                "SHOW PROCEDURES", "SHOW FUNCTIONS")

_COMMAND_WORDS = re.compile(
    r"^\s*(CREATE|DROP|ALTER|GRANT|DENY|REVOKE|START|STOP|TERMINATE|RENAME|ENABLE|DEALLOCATE|REALLOCATE|"
    r"DRYRUN|SHOW|EXPLAIN|PROFILE|CYPHER|USE)\b", re.IGNORECASE)
_CALL_TARGET = re.compile(r"\bCALL\s+([A-Za-z_][\w]*(?:\s*\.\s*[A-Za-z_][\w]*)*)\s*(\(|YIELD\b|$|;)", re.IGNORECASE)
_NAMESPACED_CALL = re.compile(r"(?<![\w.$])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)\s*\(")
_NAMESPACED_NAME = re.compile(r"(?<![\w$])[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_FORBIDDEN = (
    (re.compile(r"\bLOAD\s+CSV\b", re.IGNORECASE), "LOAD CSV reads files on the server and is not allowed"),
    (re.compile(r"\bIN\s+(\d+\s+)?(CONCURRENT\s+)?TRANSACTIONS\b", re.IGNORECASE),
     "CALL { … } IN TRANSACTIONS is not allowed"),
    (re.compile(r"(^|[\s})])USE\s+[\w`.]+", re.IGNORECASE), "USE: the console reads only the configured database"),
    (re.compile(r"\b(CREATE|MERGE|DELETE|DETACH|SET|REMOVE|FOREACH)\b", re.IGNORECASE),
     "the console is read-only: CREATE, MERGE, DELETE, SET, REMOVE and FOREACH are not allowed"),
)


class QueryRefused(LinkwatchError):
    """The query may not run in the console (HTTP 403)."""


class QueryInvalid(LinkwatchError):
    """The server cannot parse or plan the query, or a parameter is wrong (HTTP 400)."""


class QueryTimeout(LinkwatchError):
    """The query ran past its time limit and the server terminated it (HTTP 408)."""


@dataclass
class ConsoleResult:
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool
    ms: int


def _strip_literals(query: str) -> str:
    """The query with comments removed and string literals / quoted names blanked."""
    out, i, n = [], 0, len(query)
    while i < n:
        two = query[i:i + 2]
        ch = query[i]
        if two == "//":
            end = query.find("\n", i)
            i = n if end < 0 else end
        elif two == "/*":
            end = query.find("*/", i + 2)
            i = n if end < 0 else end + 2
            out.append(" ")
        elif ch in "'\"`":
            j = i + 1
            while j < n and query[j] != ch:
                j += 2 if query[j] == "\\" else 1
            out.append("x" if ch == "`" else "''")
            i = j + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def screen(query: str) -> None:
    """Refuse what the console never runs, before the server sees it."""
    text = _strip_literals(query).strip().rstrip(";").strip()
    if not text:
        raise QueryInvalid("the query is empty")
    if ";" in text:
        raise QueryRefused("one statement at a time: remove the ';'")
    for match in _CALL_TARGET.finditer(text):
        name = re.sub(r"\s+", "", match.group(1))
        if name not in ALLOWED_PROCEDURES:
            raise QueryRefused(f"procedure {name} is not on the console's allowlist")
    for match in _NAMESPACED_CALL.finditer(text):
        name = match.group(1)
        if name in ALLOWED_PROCEDURES or name in ALLOWED_FUNCTIONS:
            continue
        if not name.lower().startswith(ALLOWED_FUNCTION_PREFIXES):
            raise QueryRefused(f"function {name} is not on the console's allowlist")
    # Names are checked above; blank them so that e.g. apoc.create.uuid is not read as CREATE.
    text = _NAMESPACED_NAME.sub("x", text)
    for pattern, reason in _FORBIDDEN:
        if pattern.search(text):
            raise QueryRefused(reason)
    command = _COMMAND_WORDS.match(text)
    if command:
        upper = " ".join(text.upper().split())
        if not (command.group(1).upper() == "SHOW" and upper.startswith(ALLOWED_SHOW)):
            raise QueryRefused(f"{command.group(1).upper()} commands are not allowed in the console")


def _plan_operators(plan: dict) -> list[dict]:
    found, stack = [], [plan]
    while stack:
        op = stack.pop()
        found.append(op)
        stack.extend(op.get("children", []))
    return found


def _check_plan(summary) -> None:
    if summary.query_type != "r":
        raise QueryRefused(f"the console is read-only; the server classifies this query as {summary.query_type!r}")
    for op in _plan_operators(summary.plan or {}):
        kind = op.get("operatorType", "").split("@")[0]
        details = str(op.get("args", {}).get("Details", ""))
        if kind == "LoadCSV":
            raise QueryRefused("LOAD CSV reads files on the server and is not allowed")
        if kind.startswith("Transaction"):
            raise QueryRefused("CALL { … } IN TRANSACTIONS is not allowed")
        if kind == "ProcedureCall":
            name = details.split("(")[0].strip()
            if name not in ALLOWED_PROCEDURES:
                raise QueryRefused(f"procedure {name} is not on the console's allowlist")


def to_json(value: Any) -> Any:
    """Driver values as JSON-ready data (nodes and relationships keep labels/type and properties)."""
    if isinstance(value, Node):
        return {"_id": value.element_id, "_labels": sorted(value.labels), **{k: to_json(v) for k, v in value.items()}}
    if isinstance(value, Relationship):
        return {"_id": value.element_id, "_type": value.type, "_start": value.start_node.element_id,
                "_end": value.end_node.element_id, **{k: to_json(v) for k, v in value.items()}}
    if isinstance(value, Path):
        return {"_nodes": [to_json(n) for n in value.nodes], "_relationships": [to_json(r) for r in value.relationships]}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "iso_format"):
        return value.iso_format()
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return str(value)


def _invalid(exc: Neo4jError) -> LinkwatchError:
    code = exc.code or ""
    if "TransactionTimedOut" in code or "Transaction.Terminated" in code or "TransactionTimedOutClientConfiguration" in code:
        return QueryTimeout(f"the query ran past its time limit and was stopped on the server ({code})")
    if "AccessMode" in code or "Forbidden" in code:
        return QueryRefused(f"the console is read-only: {exc.message}")
    return QueryInvalid(exc.message or str(exc))


def run_readonly(query: str, params: dict[str, Any] | None = None, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 max_rows: int = DEFAULT_MAX_ROWS, metadata: dict[str, Any] | None = None) -> ConsoleResult:
    """Screen, plan and run ``query`` read-only; raise QueryRefused / QueryInvalid / QueryTimeout."""
    params = dict(params or {})
    if not all(isinstance(k, str) and re.fullmatch(r"[A-Za-z_]\w*", k) for k in params):
        raise QueryInvalid("parameter names must be identifiers like $account")
    screen(query)
    started = time.monotonic()
    tx_metadata = {"app": "linkwatch-console", **(metadata or {})}
    with db.driver().session(database=db.database(), default_access_mode=READ_ACCESS) as session:
        try:
            summary = session.run("EXPLAIN " + query, params).consume()
        except ClientError as exc:
            raise _invalid(exc) from exc
        _check_plan(summary)
        tx = session.begin_transaction(timeout=timeout_s, metadata=tx_metadata)
        try:
            result = tx.run(query, params)
            columns = list(result.keys())
            rows, truncated = [], False
            for record in result:
                if len(rows) == max_rows:
                    truncated = True
                    break
                rows.append([to_json(v) for v in record.values()])
        except Neo4jError as exc:
            raise _invalid(exc) from exc
        finally:
            tx.close()  # rolls back: nothing a console query did could persist anyway
    return ConsoleResult(columns, rows, truncated, int((time.monotonic() - started) * 1000))
