"""Looking things up: account detail, identifier detail (pivot) and search.

Each page has a JSON twin under ``/api/`` (same path after it) and shows the
parameterised Cypher behind it ("Show the Cypher"), openable in the console.
"""
from __future__ import annotations

import ipaddress

from flask import Blueprint, abort, redirect, url_for

from app import params
from app.auth import require_role
from app.pages import identifier_url, is_json_twin, render_page, run_shown
from graph import cases
from graph.detect import linkage

bp = Blueprint("accounts", __name__)

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


HARD_KINDS = ("payment", "device", "api_key", "phone", "email")  # shown first: what one person rarely shares
SHOWN_PER_KIND = 5  # values of one identifier kind listed before "show all"
TOP_TEMPLATES = 10  # prompt templates listed (by requests) before "show all"
TOP_LINKED = 10  # linked accounts listed before "show all"


def identifiers_by_kind(identifiers: list[dict]) -> list[dict]:
    """Identifiers grouped by kind — hard kinds first, then by how widely shared — each group with its count,
    the most accounts any of its values is shared with, and its values ordered for reading (templates by
    requests, the rest by how many accounts share them)."""
    groups: dict[str, list[dict]] = {}
    for item in identifiers:
        groups.setdefault(item["kind"] or "other", []).append(item)
    result = []
    for kind, items in groups.items():
        if kind == "template":
            items = sorted(items, key=lambda i: (-(i["uses"] or 0), str(i["value"])))
            top = TOP_TEMPLATES
        else:
            items = sorted(items, key=lambda i: (-(i["accounts_sharing"] or 0), str(i["value"])))
            top = SHOWN_PER_KIND
        shared = [i for i in items if (i["accounts_sharing"] or 0) > 1]
        result.append({"kind": kind, "count": len(items), "hard": kind in HARD_KINDS,
                       "shared_values": len(shared),
                       "max_sharing": max((i["accounts_sharing"] or 0 for i in items), default=0),
                       "top": items[:top], "rest": items[top:]})
    result.sort(key=lambda g: (not g["hard"], -g["max_sharing"], g["kind"]))
    return result


@bp.route("/accounts/<anyid:account_id>")
@bp.route("/api/accounts/<anyid:account_id>", endpoint="account_json")
@require_role("viewer")
def account(account_id: str):
    rows = run_shown("ui/account", account=account_id)
    if not rows:
        abort(404)
    identifiers = run_shown("ui/account_identifiers", account=account_id, limit=500)
    # weak links are computed on the page as detection computes them (they are not stored)
    linked = run_shown("ui/account_linked", account=account_id, limit=200, **linkage.weak_links())
    return render_page(
        "account.html",
        account=rows[0]["account"],
        campaigns=run_shown("ui/account_campaigns", account=account_id),
        identifiers=identifiers,
        identifier_groups=identifiers_by_kind(identifiers),
        linked=linked,
        top_linked=TOP_LINKED,
        case=cases.get("account", account_id), statuses=cases.STATUSES,
    )


@bp.route("/identifiers/<kind>/<anyid:value>")
@bp.route("/api/identifiers/<kind>/<anyid:value>", endpoint="identifier_json")
@require_role("viewer")
def identifier(kind: str, value: str):
    label, query_name = KINDS.get(kind, ("Identifier", "ui/other_identifier_accounts"))
    nodes = run_shown("ui/identifier_node", label=label, value=value, kind=None if label != "Identifier" else kind)
    if not nodes:
        abort(404)
    page = params.page_arg()
    query = {"value": value, "skip": (page - 1) * PAGE_SIZE, "limit": PAGE_SIZE + 1}
    if label == "Identifier":
        query["kind"] = kind
    elif query_name == "ui/identifier_accounts":
        query["label"] = label
    accounts = run_shown(query_name, **query)
    return render_page("identifier.html", kind=kind, value=value, node=nodes[0]["node"],
                   accounts=accounts[:PAGE_SIZE], page=page, more=len(accounts) > PAGE_SIZE)


def _ips_in(network: ipaddress.IPv4Network | ipaddress.IPv6Network, limit: int) -> list[str]:
    """IP addresses of the graph inside a CIDR: a text prefix narrows the scan, exact arithmetic decides."""
    if network.version == 4:
        octets = network.network_address.exploded.split(".")[: network.prefixlen // 8]
        prefix = ".".join(octets) + ("." if octets else "")
    else:
        prefix = ""
    candidates = run_shown("ui/ips_with_prefix", prefix=prefix, limit=50_000)
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
        results = run_shown("ui/search", q=q, q_lower=q.lower(), ips=ips, limit=200)
        if len(results) == 1 and not is_json_twin():
            return _redirect_to(results[0])
    return render_page("search.html", q=q, results=results)


def _redirect_to(result: dict):
    if result["kind"] == "account":
        return redirect(url_for("accounts.account", account_id=result["value"]))
    return redirect(identifier_url(result["kind"], result["value"]))
