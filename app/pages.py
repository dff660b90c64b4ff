"""What every page module shares: running a saved query so that "Show the Cypher" lists it, answering with
the HTML page or its JSON twin, the per-detection-run cache, and the URL helpers templates use.

Page modules (one per kind of page: ``account_views``, ``campaigns``, ``triage_views``, ``cases_views``,
``investigate_views``, ``console_views``, ``reports_views``, ``admin_views``) import from here and never from
each other.
"""
from __future__ import annotations

import json
from urllib.parse import urlencode

from flask import Blueprint, current_app, g, jsonify, render_template, request, url_for

from graph import cypher, db
from graph.console import to_json

bp = Blueprint("pages", __name__)


def show_cypher(name: str, **params) -> None:
    """List a saved query (with its parameters) in the page's "Show the Cypher" panel, without running it."""
    g.setdefault("shown_queries", []).append({
        "name": name, "text": cypher.query(name), "params": params,
        "console_url": url_for("console.page", query=cypher.query(name), params=json.dumps(params, default=str)),
    })


def run_shown(name: str, **params) -> list[dict]:
    """Run a saved query, list it in "Show the Cypher", and return its rows as JSON-ready dicts."""
    show_cypher(name, **params)
    return [{key: to_json(value) for key, value in row.items()} for row in db.run(name, **params)]


def is_json_twin() -> bool:
    """Whether this request asked for the JSON twin of a page (the same view under /api/)."""
    return request.path.startswith("/api/")


def render_page(template: str, **context):
    """The HTML page, or for its JSON twin the same context plus the statements the page ran."""
    if is_json_twin():
        return jsonify({**context, "cypher": [{"name": q["name"], "params": q["params"]}
                                            for q in g.get("shown_queries", [])]})
    return render_template(template, **context)


def cached_per_run(key: tuple, compute):
    """``compute()`` once per detection run (see app/runcache.py); never for case data."""
    return current_app.extensions["linkwatch_run_cache"].fetch(key, compute)


def parse_json_field(value, default):
    """A property stored as a JSON string (accounting, contributions), decoded; ``default`` if absent or bad."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return default
    return value if value is not None else default


def identifier_url(kind: str, value) -> str:
    return url_for("accounts.identifier", kind=kind, value=str(value))


def query_with(**changes) -> str:
    """The current query string with some arguments replaced (for sort, filter and page links)."""
    return urlencode({**request.args.to_dict(), **changes})


@bp.app_context_processor
def _template_helpers():
    return {"identifier_url": identifier_url, "query_with": query_with}
