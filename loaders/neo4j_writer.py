"""Write DuckDB query results to Neo4j: batched ``UNWIND $rows`` statements from cypher/load/.

Each batch is one explicit write transaction (retried by the driver on transient errors).
Every statement is an idempotent upsert (MERGE + SET of values), so re-running a load
after a crash or a killed server finishes the job with nothing lost or doubled.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import duckdb
from neo4j.exceptions import ServiceUnavailable, SessionExpired
from tqdm import tqdm

from graph import cypher, db
from graph.errors import Neo4jUnavailable


@dataclass
class WriteStats:
    rows: Counter = field(default_factory=Counter)  # statement -> rows written
    counters: Counter = field(default_factory=Counter)  # nodes_created, relationships_created, ...


COUNTERS = ("nodes_created", "relationships_created", "relationships_deleted", "properties_set", "labels_added")


def _session():
    # the loader's statements mention properties that may not exist yet (first load): no notifications for those
    return db.driver().session(database=db.database(), notifications_min_severity="OFF")


def read(statement: str) -> list[dict]:
    """Rows of a read statement in cypher/load/ as dicts."""
    with _session() as session:
        return session.execute_read(lambda tx: [r.data() for r in tx.run(cypher.query(f"load/{statement}"))])


def _run_batch(tx, query: str, rows: list[dict]):
    return tx.run(query, rows=rows).consume().counters


def write(statement: str, conn: duckdb.DuckDBPyConnection, sql: str, stats: WriteStats, batch_size: int,
          progress: bool) -> None:
    """Send the rows of ``sql`` to ``cypher/load/<statement>.cypher`` in batches of ``batch_size``."""
    total = conn.execute(f"SELECT count(*) FROM ({sql})").fetchall()[0][0]
    if total == 0:
        return
    query = cypher.query(f"load/{statement}")
    reader = conn.sql(sql).to_arrow_reader(batch_size)
    try:
        with _session() as session, \
                tqdm(total=total, desc=statement, unit="row", disable=not progress, leave=False) as bar:
            for record_batch in reader:
                # DuckDB may hand back smaller chunks than asked; each chunk is one transaction either way
                rows = record_batch.to_pylist()
                counters = session.execute_write(_run_batch, query, rows)
                for name in COUNTERS:
                    stats.counters[name] += getattr(counters, name)
                stats.rows[statement] += len(rows)
                bar.update(len(rows))
    except (ServiceUnavailable, SessionExpired) as exc:
        raise Neo4jUnavailable(
            f"Neo4j went away while writing {statement} ({stats.rows[statement]} of {total} rows written); "
            "start it again and re-run the same `linkwatch load`: it finishes without duplicating anything"
        ) from exc
