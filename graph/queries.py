"""The investigation query library: ``cypher/queries/*.cypher`` plus queries users save.

A query file starts with a header of ``// key: value`` lines::

    // title: Accounts sharing a payment method with an account
    // description: …
    // param: account = "acct-000001"      (a JSON default value; one line per parameter)
    // tags: payment, pivot
    MATCH …

Users' own queries are stored in Neo4j as ``(:SavedQuery)`` and exported or
imported in the same file format, so a file written by one analyst can be
shared with another or added to the library.
"""
from __future__ import annotations

import json
import re
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from graph import db
from graph.config import CYPHER_DIR
from graph.errors import LinkwatchError

LIBRARY_DIR = CYPHER_DIR / "queries"
_HEADER = re.compile(r"^//\s*(title|description|param|tags):\s?(.*)$")
_PARAM = re.compile(r"^([A-Za-z_]\w*)\s*=\s*(.+)$")


class QueryFileError(LinkwatchError):
    """A query file without a usable header."""


@dataclass
class SavedQuery:
    id: str
    title: str
    query: str
    description: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    owner: str | None = None  # None for the built-in library

    def to_file(self) -> str:
        lines = [f"// title: {self.title}"]
        if self.description:
            lines.append(f"// description: {self.description}")
        lines += [f"// param: {name} = {json.dumps(value)}" for name, value in self.params.items()]
        if self.tags:
            lines.append(f"// tags: {', '.join(self.tags)}")
        return "\n".join(lines) + "\n" + self.query.strip() + "\n"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse(text: str, query_id: str, source: str) -> SavedQuery:
    """A query from file text; ``source`` names the file in error messages."""
    meta: dict[str, Any] = {"params": {}, "tags": []}
    lines = text.splitlines()
    body_start = 0
    for number, line in enumerate(lines, start=1):
        match = _HEADER.match(line.strip())
        if not match:
            body_start = number - 1
            break
        key, value = match.group(1), match.group(2).strip()
        if key == "param":
            param = _PARAM.match(value)
            if not param:
                raise QueryFileError(f"{source}, line {number}: a parameter reads `// param: name = <JSON value>`")
            try:
                meta["params"][param.group(1)] = json.loads(param.group(2))
            except json.JSONDecodeError as exc:
                raise QueryFileError(f"{source}, line {number}: default of ${param.group(1)} is not JSON: {exc.msg}") from exc
        elif key == "tags":
            meta["tags"] = [tag.strip().lower() for tag in value.split(",") if tag.strip()]
        else:
            meta[key] = value
    else:
        body_start = len(lines)
    body = "\n".join(lines[body_start:]).strip()
    if not meta.get("title"):
        raise QueryFileError(f"{source}: the first line must be `// title: …`")
    if not body:
        raise QueryFileError(f"{source}: no query after the header")
    return SavedQuery(id=query_id, title=meta["title"], description=meta.get("description", ""), query=body,
                      params=meta["params"], tags=meta["tags"])


def library() -> list[SavedQuery]:
    """The built-in playbooks, sorted by title."""
    return sorted((parse(path.read_text(), path.stem, str(path)) for path in LIBRARY_DIR.glob("*.cypher")),
                  key=lambda q: q.title)


def _from_row(row: dict) -> SavedQuery:
    params = json.loads(row["params"] or "{}")
    if not isinstance(params, dict):  # stored before save() checked it: no defaults rather than a broken query
        params = {}
    return SavedQuery(id=row["id"], title=row["title"], description=row["description"] or "", query=row["query"],
                      params=params, tags=list(row["tags"] or []), owner=row["owner"])


def user_queries(owner: str) -> list[SavedQuery]:
    return [_from_row(row) for row in db.run("app/saved_query_list", owner=owner)]


def save(owner: str, title: str, query: str, description: str = "", params: dict | None = None,
         tags: list[str] | None = None, query_id: str | None = None) -> SavedQuery:
    """Create (or, with ``query_id``, replace) one of ``owner``'s queries."""
    from graph import console

    if not title.strip():
        raise QueryFileError("a saved query needs a title")
    if params is not None and not isinstance(params, dict):
        raise QueryFileError("params must be a JSON object of parameter defaults, e.g. {\"account\": \"a-1\"}")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        raise QueryFileError("tags must be a list of strings")
    console.screen(query)  # the library holds only queries the console would run
    saved = SavedQuery(id=query_id or f"u-{secrets.token_hex(6)}", title=title.strip(), query=query.strip(),
                       description=description.strip(), params=params or {},
                       tags=[t.strip().lower() for t in (tags or []) if t.strip()], owner=owner)
    if not db.run("app/saved_query_save", id=saved.id, owner=owner, title=saved.title, query=saved.query,
                  description=saved.description, params=json.dumps(saved.params), tags=saved.tags):
        raise QueryFileError(f"no query {query_id!r} of {owner!r} to replace")
    return saved


def import_file(owner: str, text: str, filename: str) -> SavedQuery:
    parsed = parse(text, "", filename)
    return save(owner, parsed.title, parsed.query, parsed.description, parsed.params, parsed.tags)


def delete(owner: str, query_id: str) -> bool:
    return bool(db.run("app/saved_query_delete", id=query_id, owner=owner))


def find(owner: str, query_id: str) -> SavedQuery | None:
    for query in library() + user_queries(owner):
        if query.id == query_id:
            return query
    return None


def search(owner: str, text: str = "", tag: str = "") -> list[SavedQuery]:
    """Library and the user's own queries whose title or description contains ``text`` and that carry ``tag``."""
    needle, tag = text.strip().lower(), tag.strip().lower()
    return [q for q in library() + user_queries(owner)
            if (not needle or needle in q.title.lower() or needle in q.description.lower())
            and (not tag or tag in q.tags)]
