"""Every Cypher statement Linkwatch runs lives in ``cypher/*.cypher`` and is loaded by name.

Python passes parameters; it never assembles query text from user input. ``access(name)`` says whether a
statement only reads (``graph.db.run`` then routes it to a reader of a cluster) or must go to the writer.
"""
from __future__ import annotations

import re
from functools import lru_cache

from graph import cypherlex
from graph.config import CYPHER_DIR

_COMMENT = re.compile(r"^\s*//.*$", re.MULTILINE)
# A line `// include: <name>` is replaced by the text of cypher/<name>.cypher: one expansion shared by statements
# that end differently (write it, or hand it to GDS). Included files start with `_` and are not statements.
_INCLUDE = re.compile(r"^[ \t]*// include: (\S+)[ \t]*$", re.MULTILINE)
# Clauses that change the graph; a statement holding none of them and calling no procedure only reads.
_WRITES = re.compile(r"\b(CREATE|MERGE|SET|DELETE|DETACH|REMOVE|FOREACH|LOAD\s+CSV|TRANSACTIONS)\b", re.IGNORECASE)
READ, WRITE = "read", "write"


@lru_cache(maxsize=None)
def query(name: str) -> str:
    """The text of ``cypher/<name>.cypher`` (``name`` may contain sub-folders: ``load/accounts``), its
    ``// include:`` lines replaced by the files they name."""
    path = (CYPHER_DIR / f"{name}.cypher").resolve()
    if CYPHER_DIR.resolve() not in path.parents:
        raise ValueError(f"query name outside cypher/: {name}")
    return _INCLUDE.sub(lambda m: query(m.group(1)), path.read_text())


@lru_cache(maxsize=None)
def access(name: str) -> str:
    """``READ`` when the statement only reads the graph, else ``WRITE``.

    A procedure call counts as a write whatever its declared mode, and so does any GDS function
    (``gds.graph.project`` in a Cypher projection): GDS keeps its state (projected graphs) on the one server
    that ran them, so they go where the writes go. Decided from the statement's code
    (comments, strings and property names do not count); tests/test_routing.py checks every statement against
    the query type the server reports for it."""
    names, code = cypherlex.names(cypherlex.tokens(query(name)))
    gds = any(n.called and n.text.lower().startswith("gds.") for n in names)
    return WRITE if gds or any(n.procedure for n in names) or _WRITES.search(code) else READ


def statements(name: str) -> list[str]:
    """The ``;``-separated statements of a file, comments dropped (for schema scripts)."""
    text = _COMMENT.sub("", query(name))
    return [part.strip() for part in text.split(";") if part.strip()]
