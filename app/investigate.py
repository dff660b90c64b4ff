"""Investigation pages: account detail, identifier detail (pivot), search.

Each page has a JSON twin under ``/api/`` (same path after it) and shows the
parameterised Cypher behind it ("Show the Cypher"), openable in the console.
"""
from __future__ import annotations

import ipaddress
import json
from urllib.parse import urlencode

from flask import Blueprint, abort, g, jsonify, redirect, render_template, request, url_for

from app import params
from app.auth import require_role
from graph import cases, cypher, db
from graph.console import to_json

bp = Blueprint("investigate", __name__)

PAGE_SIZE = 100
# kind in URLs -> (node label, cypher file listing its accounts)
KINDS = {
    "payment": ("PaymentMethod", "ui/identifier_accounts"),
    "ip": ("IP", "ui/identifier_accounts"),
    "device": ("Device", "ui/identifier_accounts"),
    "email": ("Email", "ui/identifier_accounts"),
    "phone": ("Phone", "ui/identifier_accounts"),
    "api_key": ("ApiKey", "ui/identifier_accounts"),
    "proxy_network": ("ProxyNetwork", "ui/proxy_network_accounts"),
    "asn": ("ASN", "ui/asn_accounts"),
    "template": ("PromptTemplate", "ui/template_accounts"),
}


def note(name: str, **params) -> None:
    """Remember a saved query for the page's "Show the Cypher" panel (``shown`` also runs it)."""
    g.setdefault("shown_queries", []).append({
        "name": name, "text": cypher.query(name), "params": params,
        "console_url": url_for("console.page", query=cypher.query(name), params=json.dumps(params, default=str)),
    })


def shown(name: str, **params):
    """Run a saved query and remember it for the page's "Show the Cypher" panel."""
    note(name, **params)
    return [{key: to_json(value) for key, value in row.items()} for row in db.run(name, **params)]


def respond(template: str, json_view: bool, **context):
    if json_view:
        return jsonify({**context, "cypher": [{"name": q["name"], "params": q["params"]}
                                            for q in g.get("shown_queries", [])]})
    return render_template(template, **context)


def json_view() -> bool:
    """Whether this request asked for the JSON twin of a page (the same view under /api/)."""
    return request.path.startswith("/api/")


@bp.route("/accounts/<anyid:account_id>")
@bp.route("/api/accounts/<anyid:account_id>", endpoint="account_json")
@require_role("viewer")
def account(account_id: str):
    rows = shown("ui/account", account=account_id)
    if not rows:
        abort(404)
    data = rows[0]["account"]
    return respond(
        "account.html", json_view(),
        account=data,
        identifiers=shown("ui/account_identifiers", account=account_id, limit=500),
        linked=shown("ui/account_linked", account=account_id, limit=200),
        campaigns=shown("ui/account_campaigns", account=account_id),
        case=cases.get("account", account_id), statuses=cases.STATUSES,
    )


@bp.route("/identifiers/<kind>/<anyid:value>")
@bp.route("/api/identifiers/<kind>/<anyid:value>", endpoint="identifier_json")
@require_role("viewer")
def identifier(kind: str, value: str):
    label, query_name = KINDS.get(kind, ("Identifier", "ui/other_identifier_accounts"))
    nodes = shown("ui/identifier_node", label=label, value=value, kind=None if label != "Identifier" else kind)
    if not nodes:
        abort(404)
    page = params.page_arg()
    query = {"value": value, "skip": (page - 1) * PAGE_SIZE, "limit": PAGE_SIZE + 1}
    if label == "Identifier":
        query["kind"] = kind
    elif query_name == "ui/identifier_accounts":
        query["label"] = label
    accounts = shown(query_name, **query)
    return respond("identifier.html", json_view(), kind=kind, value=value, node=nodes[0]["node"],
                   accounts=accounts[:PAGE_SIZE], page=page, more=len(accounts) > PAGE_SIZE)


def _ips_in(network: ipaddress.IPv4Network | ipaddress.IPv6Network, limit: int) -> list[str]:
    """IP addresses of the graph inside a CIDR: a text prefix narrows the scan, exact arithmetic decides."""
    if network.version == 4:
        octets = network.network_address.exploded.split(".")[: network.prefixlen // 8]
        prefix = ".".join(octets) + ("." if octets else "")
    else:
        prefix = ""
    candidates = shown("ui/ips_with_prefix", prefix=prefix, limit=50_000)
    inside = []
    for row in candidates:
        try:
            if ipaddress.ip_address(row["ip"]) in network:
                inside.append(row["ip"])
        except ValueError:
            continue
        if len(inside) >= limit:
            break
    return inside


@bp.route("/search")
@bp.route("/api/search", endpoint="search_json")
@require_role("viewer")
def search():
    q = params.text_arg("q").strip()
    results = []
    if q:
        ips: list[str] = []
        if "/" in q:
            try:
                ips = _ips_in(ipaddress.ip_network(q, strict=False), limit=200)
            except ValueError:
                pass
        results = shown("ui/search", q=q, q_lower=q.lower(), ips=ips, limit=200)
        if len(results) == 1 and not json_view():
            return _redirect_to(results[0])
    return respond("search.html", json_view(), q=q, results=results)


def _redirect_to(result: dict):
    if result["kind"] == "account":
        return redirect(url_for("investigate.account", account_id=result["value"]))
    return redirect(url_for("investigate.identifier", kind=result["kind"], value=result["value"]))


def identifier_url(kind: str, value) -> str:
    return url_for("investigate.identifier", kind=kind, value=str(value))


def query_with(**changes) -> str:
    """The current query string with some arguments replaced (for sort and page links)."""
    return urlencode({**request.args.to_dict(), **changes})


@bp.app_context_processor
def _helpers():
    return {"identifier_url": identifier_url, "query_with": query_with}
