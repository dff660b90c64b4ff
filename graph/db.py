"""Neo4j access: one driver per process, connectivity and GDS checks, the schema.

Usage::

    from graph import db
    records = db.run("load/accounts", rows=batch)   # cypher/load/accounts.cypher
    db.apply_schema()
"""
from __future__ import annotations

import threading
from typing import Any

from neo4j import Driver, GraphDatabase, NotificationDisabledClassification, RoutingControl
from neo4j.exceptions import AuthError, ClientError, ServiceUnavailable, TransientError
from neo4j.graph import Node, Path, Relationship
from neo4j.time import Date, DateTime, Duration, Time

from graph import cypher
from graph.config import Connection, connection
from graph.errors import GdsMissing, Neo4jUnavailable

_lock = threading.Lock()
_driver: Driver | None = None
_driver_conn: Connection | None = None


def _hint(conn: Connection) -> str:
    if conn.managed:
        return "start it with `linkwatch neo4j start`"
    return "check NEO4J_URI, NEO4J_USERNAME and NEO4J_PASSWORD"


def driver() -> Driver:
    """The process-wide driver for the configured server (created on first use)."""
    global _driver, _driver_conn
    conn = connection()
    with _lock:
        if _driver is not None and _driver_conn == conn:
            return _driver
        if _driver is not None:
            _driver.close()
        if conn.managed and not conn.password:
            raise Neo4jUnavailable(f"the managed Neo4j has not been started yet; {_hint(conn)}")
        # "unknown label/property" notices are normal on a fresh or partly loaded graph: keep logs quiet.
        _driver = GraphDatabase.driver(
            conn.uri, auth=(conn.username, conn.password),
            notifications_disabled_classifications=[NotificationDisabledClassification.UNRECOGNIZED],
        )
        _driver_conn = conn
        return _driver


def close() -> None:
    global _driver, _driver_conn
    with _lock:
        if _driver is not None:
            _driver.close()
        _driver, _driver_conn = None, None


def database() -> str:
    return connection().database


def verify() -> None:
    """Raise Neo4jUnavailable with an actionable message unless the server answers."""
    conn = connection()
    try:
        driver().verify_connectivity()
    except AuthError as exc:
        raise Neo4jUnavailable(f"Neo4j at {conn.uri} refused the credentials for user {conn.username!r}; {_hint(conn)}") from exc
    except (ServiceUnavailable, OSError) as exc:
        raise Neo4jUnavailable(f"Neo4j is not reachable at {conn.uri}; {_hint(conn)}") from exc


def gds_version() -> str:
    """The server's GDS version; GdsMissing when the plugin is not installed."""
    verify()
    try:
        records, _, _ = driver().execute_query(cypher.query("admin/gds_version"), database_=database())
    except ClientError as exc:
        if "gds.version" in (exc.message or "") or exc.code in (
            "Neo.ClientError.Statement.SyntaxError",
            "Neo.ClientError.Procedure.ProcedureNotFound",
        ):
            raise GdsMissing(
                f"Neo4j at {connection().uri} has no Graph Data Science plugin (RETURN gds.version() failed: "
                f"{exc.message}); install GDS 2.13+ or use `linkwatch neo4j start`"
            ) from exc
        raise
    return records[0]["version"]


def routing(query_name: str) -> RoutingControl:
    """Where a saved statement runs on a cluster (``neo4j://`` URI): a reader when it only reads, else the
    writer. A single server (``bolt://``) answers both."""
    return RoutingControl.READ if cypher.access(query_name) == cypher.READ else RoutingControl.WRITE


def session(**config: Any):
    """A session on the configured database that shares ``execute_query``'s bookmarks: on a cluster, a read
    routed to a reader waits until that reader holds every write made before it, through ``run`` or through
    any session opened here (the loader's batches, batched linkage, the console's READ transactions)."""
    return driver().session(database=database(), bookmark_manager=driver().execute_query_bookmark_manager,
                            **config)


BOOKMARK_TIMEOUT = "Neo.TransientError.Transaction.BookmarkTimeout"


def _execute(query_name: str, params: dict[str, Any]):
    """``execute_query`` of a saved statement with its routing. The driver passes the bookmarks of this
    process's earlier writes; when the managed database was replaced since (the bulk first load, run by
    another process, swaps the store for a new one whose transaction ids start again) they can never be
    reached, so the driver is opened afresh and the statement run once more. Against a cluster the same error
    means a reader lags behind: that is raised, as the driver's own retries already waited."""
    def attempt():
        return driver().execute_query(cypher.query(query_name), params, database_=database(),
                                      routing_=routing(query_name))
    try:
        return attempt()
    except TransientError as exc:
        if exc.code != BOOKMARK_TIMEOUT or not connection().managed:
            raise
    close()
    return attempt()


_PLAIN = frozenset({int, float, str, bool, type(None), bytes, Date, DateTime, Duration, Time})


def exported(value: Any) -> Any:
    """A value as ``Record.data()`` gives it (a node as the dict of its properties, a relationship as
    ``(start, type, end)``, a path as ``[node, type, node, ...]``), without walking lists and maps that hold
    only plain values: the driver's own transformer tests every nested value against abstract types, which
    took a minute for the 110,000 clusters' facts of a 1M-account detection (bench/RESULTS.md)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is list:
        return value if all(type(v) in _PLAIN for v in value) else [exported(v) for v in value]
    if kind is dict:
        return value if all(type(v) in _PLAIN for v in value.values()) else {k: exported(v) for k, v in value.items()}
    if isinstance(value, Node):
        return exported(dict(value))
    if isinstance(value, Relationship):
        return exported(dict(value.start_node)), type(value).__name__, exported(dict(value.end_node))
    if isinstance(value, Path):
        path = [exported(value.start_node)]
        for relationship, node in zip(value.relationships, value.nodes[1:]):
            path += [type(relationship).__name__, exported(node)]
        return path
    return value  # spatial points and anything else the driver returns as is


def run(query_name: str, /, **params: Any) -> list[dict[str, Any]]:
    """Run the saved statement ``cypher/<name>.cypher`` with parameters; rows as dicts (``exported`` values)."""
    records, _, keys = _execute(query_name, params)
    return [{key: exported(value) for key, value in zip(keys, record.values())} for record in records]


def columns(query_name: str, /, **params: Any) -> dict[str, list[Any]]:
    """Run a bulk read whose rows each hold one list per column (``RETURN collect(x) AS x, ...``, one row or
    a few chunks) and return the columns joined: the driver decodes a list about 15 times faster than the
    same values as rows (bench/RESULTS.md), which is what moving a million accounts or pairs costs."""
    records, _, keys = _execute(query_name, params)
    joined: dict[str, list[Any]] = {key: [] for key in keys}
    for record in records:
        for key in keys:
            joined[key].extend(record[key])
    return joined


def apply_schema() -> int:
    """Create every constraint and index in ``cypher/schema.cypher``; safe to repeat."""
    statements = cypher.statements("schema")
    with session() as schema:
        for statement in statements:
            schema.run(statement).consume()
        schema.run(cypher.query("admin/await_indexes"), timeout_seconds=300).consume()
    return len(statements)


def gds(show_progress: bool = False):
    """A GraphDataScience client on the shared driver (Bolt only: the open GDS build has no Arrow server)."""
    from graphdatascience import GraphDataScience

    gds_version()  # a clear GdsMissing instead of the client's own error
    return GraphDataScience(driver(), database=database(), arrow=False, show_progress=show_progress)


def wipe() -> None:
    """Delete every node, relationship and in-memory GDS graph of the configured database."""
    with session() as wiping:
        wiping.run(cypher.query("admin/drop_projections"), database=database()).consume()
        wiping.run(cypher.query("admin/wipe")).consume()
