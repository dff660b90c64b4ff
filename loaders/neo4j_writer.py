"""Write DuckDB query results to Neo4j: batched ``UNWIND $rows`` statements from cypher/load/.

By default each batch is one explicit write transaction (retried by the driver on transient errors).
Every statement is an idempotent upsert (MERGE + SET of values), so re-running a load after a crash
or a killed server finishes the job with nothing lost or doubled.

With ``single_transaction`` (``linkwatch load --strict``) every batch of every statement, and the reads
between them, run in ONE transaction that is committed only at the end: a failure only the server
detects (a value it refuses to index, a constraint, a lost connection) rolls everything back, so
``--strict`` never leaves a partial write. The price is that the whole load must fit the server's
transaction memory (``db.memory.transaction.total.max``).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import duckdb
from neo4j.exceptions import Neo4jError, ServiceUnavailable, SessionExpired
from tqdm import tqdm

from graph import cypher, db
from graph.errors import LinkwatchError, Neo4jUnavailable


@dataclass
class WriteStats:
    rows: Counter = field(default_factory=Counter)  # statement -> rows written
    counters: Counter = field(default_factory=Counter)  # nodes_created, relationships_created, ...


COUNTERS = ("nodes_created", "relationships_created", "relationships_deleted", "properties_set", "labels_added")


class ServerRefused(LinkwatchError):
    """Neo4j refused a batch (for example a value too large to index)."""


def _session():
    # the loader's statements mention properties that may not exist yet (first load): no notifications for those
    return db.session(notifications_min_severity="OFF")


def _run_batch(tx, query: str, rows: list[dict]):
    return tx.run(query, rows=rows).consume().counters


class Writer:
    """Sends load statements to Neo4j, one transaction per batch or (``single_transaction``) one in all."""

    def __init__(self, stats: WriteStats, batch_size: int, progress: bool, single_transaction: bool = False):
        self.stats, self.batch_size, self.progress = stats, batch_size, progress
        self.single = single_transaction
        self._session = None
        self._tx = None

    def __enter__(self) -> Writer:
        if self.single:
            self._session = _session()
            self._tx = self._session.begin_transaction()
        return self

    def __exit__(self, kind, error, trace) -> None:
        try:
            if self._tx is None:
                return
            if kind is None:
                try:
                    self._tx.commit()
                except (ServiceUnavailable, SessionExpired) as exc:
                    raise Neo4jUnavailable("Neo4j went away while committing the load; --strict: nothing was "
                                           "committed. Start it again and re-run the same `linkwatch load`") from exc
                except Neo4jError as exc:
                    raise self._refused("the final commit", exc, rolled_back=True) from exc
            elif not self._tx.closed():
                try:
                    self._tx.rollback()
                except (Neo4jError, ServiceUnavailable, SessionExpired):
                    pass  # the server already ended the failed transaction (or is gone): nothing was committed
        finally:
            if self._session is not None:
                self._session.close()

    def read(self, statement: str) -> list[dict]:
        """Rows of a read statement in cypher/load/ as dicts (inside the load's transaction when there is one)."""
        query = cypher.query(f"load/{statement}")
        if self._tx is not None:
            return [r.data() for r in self._tx.run(query)]
        with _session() as session:
            return session.execute_read(lambda tx: [r.data() for r in tx.run(query)])

    def write(self, statement: str, conn: duckdb.DuckDBPyConnection, sql: str) -> None:
        """Send the rows of ``sql`` to ``cypher/load/<statement>.cypher`` in batches of ``batch_size``."""
        total = conn.execute(f"SELECT count(*) FROM ({sql})").fetchall()[0][0]
        if total == 0:
            return
        query = cypher.query(f"load/{statement}")
        reader = conn.sql(sql).to_arrow_reader(self.batch_size)
        try:
            with tqdm(total=total, desc=statement, unit="row", disable=not self.progress, leave=False) as bar:
                session = _session() if self._tx is None else None
                try:
                    for record_batch in reader:
                        # DuckDB may hand back smaller chunks than asked; each chunk is one transaction either way
                        rows = record_batch.to_pylist()
                        if self._tx is not None:
                            counters = _run_batch(self._tx, query, rows)
                        else:
                            counters = session.execute_write(_run_batch, query, rows)
                        for name in COUNTERS:
                            self.stats.counters[name] += getattr(counters, name)
                        self.stats.rows[statement] += len(rows)
                        bar.update(len(rows))
                finally:
                    if session is not None:
                        session.close()
        except (ServiceUnavailable, SessionExpired) as exc:
            if self.single:
                raise Neo4jUnavailable(f"Neo4j went away while writing {statement}; --strict: nothing was "
                                       "committed. Start it again and re-run the same `linkwatch load`") from exc
            raise Neo4jUnavailable(
                f"Neo4j went away while writing {statement} ({self.stats.rows[statement]} of {total} rows written); "
                "start it again and re-run the same `linkwatch load`: it finishes without duplicating anything"
            ) from exc
        except Neo4jError as exc:
            raise self._refused(statement, exc, rolled_back=self.single,
                                written=self.stats.rows[statement], total=total) from exc

    @staticmethod
    def _refused(statement: str, exc: Neo4jError, rolled_back: bool, written: int = 0, total: int = 0) -> ServerRefused:
        message = (exc.message or str(exc)).splitlines()[0][:300]
        if rolled_back:
            return ServerRefused(f"Neo4j refused {statement}: {message}; --strict: the whole load was rolled back, "
                                 "nothing was written")
        return ServerRefused(f"Neo4j refused {statement} after {written} of {total} rows: {message}; the batches "
                             "before it stay written (use --strict to write all or nothing); fix the input and "
                             "re-run: nothing is duplicated")


def read(statement: str) -> list[dict]:
    """Rows of a read statement in cypher/load/ as dicts, outside any load."""
    with _session() as session:
        return session.execute_read(lambda tx: [r.data() for r in tx.run(cypher.query(f"load/{statement}"))])
