"""Every Cypher statement Linkwatch runs lives in ``cypher/*.cypher`` and is loaded by name.

Python passes parameters; it never assembles query text from user input.
"""
from __future__ import annotations

import re
from functools import lru_cache

from graph.config import CYPHER_DIR

_COMMENT = re.compile(r"^\s*//.*$", re.MULTILINE)


@lru_cache(maxsize=None)
def query(name: str) -> str:
    """The text of ``cypher/<name>.cypher`` (``name`` may contain sub-folders: ``load/accounts``)."""
    path = (CYPHER_DIR / f"{name}.cypher").resolve()
    if CYPHER_DIR.resolve() not in path.parents:
        raise ValueError(f"query name outside cypher/: {name}")
    return path.read_text()


def statements(name: str) -> list[str]:
    """The ``;``-separated statements of a file, comments dropped (for schema scripts)."""
    text = _COMMENT.sub("", query(name))
    return [part.strip() for part in text.split(";") if part.strip()]
