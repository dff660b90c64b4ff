"""Run an analyst's own Cypher safely: read-only by construction, bounded in time and rows.

Community Neo4j has no per-user roles, so the console guards itself, in layers
(docs/console.md gives the threat model); none relies on another having worked:

1. size caps (length, bracket nesting, UNIONs) before the server parses anything;
2. a lexical screen on the query's tokens, split by Cypher's own lexical rules
   (graph/cypherlex.py), refuses what must never run: writes, ``LOAD CSV``,
   ``CALL { … } IN TRANSACTIONS``, ``USE``, schema and administration commands,
   ``EXPLAIN``/``PROFILE``/``CYPHER`` prefixes, and any procedure or namespaced
   function that is not allowlisted;
3. the server plans the query with ``EXPLAIN`` in the transaction it will run in:
   anything whose query type is not read-only (``r``) is refused, and every
   procedure and function the plan invokes is checked against the allowlists again;
4. the query runs in that READ-mode transaction on the configured database only,
   with a server-side timeout (planning included), a row cap and a size cap;
5. GDS graphs that appeared while it ran (GDS state outlives a rollback) are
   dropped and the query is refused, unless detection registered them.

Parameters always travel as parameters; the query text is never edited.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from neo4j import READ_ACCESS
from neo4j.exceptions import Neo4jError
from neo4j.graph import Node, Path, Relationship

from graph import cypherlex, db
from graph.config import setting
from graph.errors import LinkwatchError

_log = logging.getLogger(__name__)

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
# A name followed by '(' in an operator's details of the plan: the functions the server will invoke.
_PLAN_CALL = re.compile(r"(`[^`]*`|[A-Za-z_]\w*)((?:\s*\.\s*(?:`[^`]*`|[A-Za-z_]\w*))+)\s*\(")
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


@dataclass(frozen=True)
class Limits:
    """What one console query may cost (named settings, docs/console.md)."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    max_rows: int = DEFAULT_MAX_ROWS
    max_query_chars: int = 20_000
    max_nesting: int = 40
    max_unions: int = 20
    max_response_bytes: int = 8_000_000

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(timeout_s=float(setting("LINKWATCH_CONSOLE_TIMEOUT_S")),
                   max_rows=int(setting("LINKWATCH_CONSOLE_MAX_ROWS")),
                   max_query_chars=int(setting("LINKWATCH_CONSOLE_MAX_QUERY_CHARS")),
                   max_nesting=int(setting("LINKWATCH_CONSOLE_MAX_NESTING")),
                   max_unions=int(setting("LINKWATCH_CONSOLE_MAX_UNIONS")),
                   max_response_bytes=int(setting("LINKWATCH_CONSOLE_MAX_RESPONSE_BYTES")))


def _function_allowed(name: str) -> bool:
    return name in ALLOWED_FUNCTIONS or name.lower().startswith(ALLOWED_FUNCTION_PREFIXES)


def screen(query: str, limits: Limits = Limits()) -> None:
    """Refuse what the console never runs, before the server sees it.

    The query is split into tokens by Cypher's own lexical rules (graph/cypherlex.py), so a
    comment, a string or a quoted name ends exactly where the server ends it."""
    if len(query) > limits.max_query_chars:
        raise QueryRefused(f"the query has {len(query):,} characters; the console accepts at most "
                           f"{limits.max_query_chars:,} (LINKWATCH_CONSOLE_MAX_QUERY_CHARS)")
    try:
        found = cypherlex.tokens(query)
    except cypherlex.LexError as exc:
        raise QueryInvalid(str(exc)) from exc
    depth = cypherlex.max_depth(found)
    if depth > limits.max_nesting:
        raise QueryRefused(f"the query nests brackets {depth} deep; the console accepts at most "
                           f"{limits.max_nesting} (LINKWATCH_CONSOLE_MAX_NESTING)")
    unions = sum(1 for t in found if t.is_word("UNION"))
    if unions > limits.max_unions:
        raise QueryRefused(f"the query has {unions} UNIONs; the console accepts at most "
                           f"{limits.max_unions} (LINKWATCH_CONSOLE_MAX_UNIONS)")
    names, text = cypherlex.names(found)
    text = text.strip().rstrip(";").strip()
    if not text:
        raise QueryInvalid("the query is empty")
    if ";" in text:
        raise QueryRefused("one statement at a time: remove the ';'")
    for name in names:
        if name.procedure:
            if name.text not in ALLOWED_PROCEDURES:
                raise QueryRefused(f"procedure {name.text} is not on the console's allowlist")
        elif name.called and (name.parts > 1 or name.quoted):
            if not (name.text in ALLOWED_PROCEDURES or _function_allowed(name.text)):
                raise QueryRefused(f"function {name.text} is not on the console's allowlist")
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


def _plan_functions(details: str) -> set[str]:
    """Dotted names invoked in one operator's details (string literals in them blanked first)."""
    try:
        found = cypherlex.tokens(details)
    except cypherlex.LexError:
        found = None
    text = details if found is None else cypherlex.normalised_code(found)
    return {re.sub(r"[\s`]", "", head + rest) for head, rest in _PLAN_CALL.findall(text)}


def _check_plan(summary) -> None:
    """Check the server's plan, independently of the screen: query type, procedures, functions."""
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
        for name in _plan_functions(details):
            if not (name in ALLOWED_PROCEDURES or _function_allowed(name)):
                raise QueryRefused(f"function {name} is not on the console's allowlist")


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


def _bounded(value: Any, budget: list[int]) -> Any:
    """``value`` with strings cut to what is left of the response budget (``budget[0]`` bytes of JSON,
    separators included)."""
    if isinstance(value, list):
        budget[0] -= 2
        return [_bounded(v, budget) for v in value]
    if isinstance(value, dict):
        budget[0] -= 2
        bounded = {}
        for key, item in value.items():
            budget[0] -= len(json.dumps(key)) + 2
            bounded[key] = _bounded(item, budget)
        return bounded
    size = len(json.dumps(value, default=str)) + 2
    if isinstance(value, str) and size > budget[0]:
        keep = max(budget[0] // 6, 0)  # characters: an escaped one takes at most 6 bytes
        budget[0] = 0
        return value[:keep] + "…"
    budget[0] -= size
    return value


def _graph_names() -> set[str]:
    return {row["name"] for row in db.run("console/gds_graphs")}


def _drop_new_graphs(before: set[str]) -> list[str]:
    """Drop GDS graphs that appeared while a console query ran, except those detection registered."""
    new = _graph_names() - before
    if not new:
        return []
    registered = {row["name"] for row in db.run("console/registered_projections", names=sorted(new))}
    dropped = sorted(new - registered)
    if dropped:
        db.run("console/drop_graphs", names=dropped)
    return dropped


def run_readonly(query: str, params: dict[str, Any] | None = None, *, limits: Limits = Limits(),
                 metadata: dict[str, Any] | None = None) -> ConsoleResult:
    """Screen, plan and run ``query`` read-only; raise QueryRefused / QueryInvalid / QueryTimeout.

    Planning and running share one READ transaction under the time limit; the rows returned are
    capped in number and in encoded size; GDS graphs the query created (it never should: the screen
    and the plan both refuse every GDS catalogue call) are dropped and the query is refused."""
    params = dict(params or {})
    if not all(isinstance(k, str) and re.fullmatch(r"[A-Za-z_]\w*", k) for k in params):
        raise QueryInvalid("parameter names must be identifiers like $account")
    screen(query, limits)
    started = time.monotonic()
    tx_metadata = {"app": "linkwatch-console", **(metadata or {})}
    graphs_before = _graph_names()
    rows: list[list[Any]] = []
    truncated = False
    try:
        with db.session(default_access_mode=READ_ACCESS) as session:
            tx = session.begin_transaction(timeout=limits.timeout_s, metadata=tx_metadata)
            try:
                _check_plan(tx.run("EXPLAIN " + query, params).consume())
                result = tx.run(query, params)
                columns = list(result.keys())
                budget = [limits.max_response_bytes]
                for record in result:
                    if len(rows) == limits.max_rows or budget[0] <= 0:
                        truncated = True
                        break
                    rows.append(_bounded([to_json(v) for v in record.values()], budget))
                    truncated = truncated or budget[0] <= 0
            except Neo4jError as exc:
                raise _invalid(exc) from exc
            finally:
                tx.close()  # rolls back: nothing a console query did could persist anyway
    except BaseException:
        # the query's own error is the one to report; GDS state is still cleaned up, and a failure there is
        # logged rather than put in its place
        try:
            _drop_new_graphs(graphs_before)
        except Exception:
            _log.exception("could not drop the GDS graphs a failed console query left")
        raise
    dropped = _drop_new_graphs(graphs_before)
    if dropped:
        raise QueryRefused(f"the query created GDS state ({', '.join(dropped)}); it was dropped and the query refused")
    return ConsoleResult(columns, rows, truncated, int((time.monotonic() - started) * 1000))
