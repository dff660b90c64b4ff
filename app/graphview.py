"""Network views: pyvis builds the network, our own page template draws it.

pyvis's bundled HTML template pulls Bootstrap from a CDN, so Linkwatch does not
use it. Instead pyvis builds nodes, edges and options, and the page loads the
vis-network script that ships inside the pyvis package, served by this app at
``/vendor/vis/…`` — no request ever leaves the analyst's network.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterable

import pyvis
from flask import Blueprint, abort, send_from_directory
from pyvis.network import Network

VIS_DIR = Path(pyvis.__file__).parent / "lib" / "vis-9.1.2"
VIS_FILES = {"vis-network.min.js", "vis-network.css"}
MAX_NODES = 500

# One colour per node label, so that the same kind of thing looks the same everywhere.
LABEL_COLOURS = {
    "Account": "#3854d1", "PaymentMethod": "#d1443b", "IP": "#2e9e6a", "Device": "#a05ad1",
    "Email": "#d18f2e", "Phone": "#c2549b", "ApiKey": "#6b7280", "Identifier": "#6b7280",
    "ASN": "#0f766e", "ProxyNetwork": "#b45309", "PromptTemplate": "#7c3aed", "Campaign": "#111827",
}

bp = Blueprint("graphview", __name__)


@bp.route("/vendor/vis/<name>")
def vis_asset(name: str):
    if name not in VIS_FILES:
        abort(404)
    return send_from_directory(VIS_DIR, name, max_age=86400)


def _label_of(node: dict) -> str:
    labels = node.get("_labels") or []
    return next((label for label in labels if label in LABEL_COLOURS), labels[0] if labels else "node")


def _caption(node: dict) -> str:
    for key in ("account_id", "value", "name", "template_id", "asn", "id", "cidr"):
        if node.get(key) not in (None, ""):
            return str(node[key])
    return node["_id"][-8:]


def _tooltip(item: dict) -> str:
    shown = {k: v for k, v in item.items() if not k.startswith("_")}
    return "\n".join(f"{k}: {v}" for k, v in sorted(shown.items()))[:800]


def collect(values: Iterable[Any]) -> tuple[dict[str, dict], dict[str, dict]]:
    """Nodes and relationships (as produced by graph.console.to_json) found anywhere in ``values``."""
    nodes: dict[str, dict] = {}
    rels: dict[str, dict] = {}
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            if "_labels" in value:
                nodes[value["_id"]] = value
            elif "_type" in value:
                rels[value["_id"]] = value
            elif "_nodes" in value:
                stack.extend(value["_nodes"])
                stack.extend(value["_relationships"])
            else:
                stack.extend(value.values())
    return nodes, rels


def network(nodes: dict[str, dict], rels: dict[str, dict], max_nodes: int = MAX_NODES) -> dict:
    """pyvis network data ``{"nodes", "edges", "options", "shown", "total"}`` capped at ``max_nodes``."""
    net = Network(directed=True)
    kept = list(nodes)[:max_nodes]
    for node_id in kept:
        node = nodes[node_id]
        label = _label_of(node)
        # colour, not vis "group": a group's palette would override the per-label colour
        net.add_node(node_id, label=_caption(node), title=f"{label}\n{_tooltip(node)}",
                     color=LABEL_COLOURS.get(label, "#6b7280"), kind=label)
    kept_set = set(kept)
    for rel in rels.values():
        if rel["_start"] in kept_set and rel["_end"] in kept_set:
            net.add_edge(rel["_start"], rel["_end"], title=f"{rel['_type']}\n{_tooltip(rel)}", label=rel["_type"])
    net.toggle_physics(True)
    return {"nodes": net.nodes, "edges": net.edges, "options": json.loads(net.options.to_json()),
            "shown": len(kept), "total": len(nodes)}


# ---- the campaign network: shared identifiers as hubs, members around them ------------------------------------

# what an identifier's label is called in the legend, and whether one person rarely shares it ("hard")
HUB_KINDS = {
    "PaymentMethod": ("payment method", True), "Device": ("device", True), "ApiKey": ("API key", True),
    "Phone": ("phone", True), "Email": ("e-mail", True), "ProxyNetwork": ("proxy network", False),
    "IP": ("IP address", False), "ASN": ("ASN", False), "PromptTemplate": ("prompt template", False),
}
MEMBER_COLOUR = "#94a3b8"


def _hub_kind(label: str) -> tuple[str, bool]:
    return HUB_KINDS.get(label, (label, False))


def hub_network(members: list[dict], shared: list[dict], max_nodes: int,
                link: Callable[[str, str], str] = lambda label, value: "") -> dict:
    """A campaign's members around the identifiers they share, as pyvis data, within ``max_nodes`` nodes.

    Each shared identifier is a hub sized by how many drawn members use it, coloured by kind (``legend``); hard
    identifiers are diamonds with solid edges, weak ones (IP, template, proxy network, ASN) small pale dots with
    dashed edges. When hubs and members together exceed ``max_nodes``, members that use exactly the same hubs
    are drawn as one group node ("37 accounts") — ``aggregated`` is then True; if even that is too many, the
    hubs with fewest members are left out (``shown`` < ``total`` says so). ``link(label, value)`` gives the URL of
    a node's page (the side panel links to it).
    """
    hubs = sorted(shared, key=lambda s: (not _hub_kind(s["label"])[1], -len(s["users"]), str(s["value"])))
    drawn_members = {m["account"]: m for m in members}
    total = len(hubs) + len(drawn_members)
    aggregated = total > max_nodes
    if aggregated:
        hubs = hubs[:max(1, max_nodes // 2)]
    net = Network(directed=False)
    kinds_used: dict[str, dict] = {}
    for hub in hubs:
        label = hub["label"]
        name, hard = _hub_kind(label)
        colour = LABEL_COLOURS.get(label, "#6b7280")
        users = len(hub["users"])
        kinds_used[label] = {"kind": name, "colour": colour, "hard": hard}
        net.add_node(f"i:{hub['id']}", label=str(hub["value"])[:40], title=f"{name}: {hub['value']}\n{users} members",
                     color=colour if hard else {"background": "#ffffff", "border": colour},
                     shape="diamond" if hard else "dot", size=round(10 + 5 * users ** 0.5, 1),
                     borderWidth=3 if hard else 2, kind=label, hard=hard, value_text=str(hub["value"]),
                     members=users, proxy_type=hub.get("proxy_type"), href=link(label, str(hub["value"])))
    hub_ids = {f"i:{hub['id']}": hub for hub in hubs}
    uses: dict[str, list[str]] = {}
    for hub_id, hub in hub_ids.items():
        for user in hub["users"]:
            if user in drawn_members:
                uses.setdefault(user, []).append(hub_id)
    edges = 0
    if not aggregated:
        for account, member in drawn_members.items():
            net.add_node(f"a:{account}", label=" ", title=f"account {account}\nscore {member.get('score')}",
                         color=MEMBER_COLOUR, shape="dot", size=6, kind="Account", account_id=account,
                         href=link("Account", account))
        for account, hub_list in uses.items():
            for hub_id in hub_list:
                hard = _hub_kind(hub_ids[hub_id]["label"])[1]
                net.add_edge(f"a:{account}", hub_id, color={"color": "#cbd5e1"}, dashes=not hard,
                             width=1.5 if hard else 0.7)
                edges += 1
    else:
        groups: dict[tuple, list[str]] = {}
        for account in drawn_members:
            groups.setdefault(tuple(sorted(uses.get(account, []))), []).append(account)
        groups.pop((), None)  # members sharing none of the drawn hubs are in the table, not the picture
        for number, (hub_list, accounts) in enumerate(sorted(groups.items(), key=lambda g: -len(g[1]))):
            if len(net.nodes) >= max_nodes:
                break
            node_id = f"g:{number}"
            net.add_node(node_id, label=f"{len(accounts)} accounts", title=f"{len(accounts)} accounts using the same "
                         f"{len(hub_list)} shared identifiers\n" + "\n".join(sorted(accounts)[:20]),
                         color=MEMBER_COLOUR, shape="dot", size=round(6 + 3 * len(accounts) ** 0.5, 1), kind="Group",
                         accounts=len(accounts))
            for hub_id in hub_list:
                hard = _hub_kind(hub_ids[hub_id]["label"])[1]
                net.add_edge(node_id, hub_id, color={"color": "#cbd5e1"}, dashes=not hard, width=2 if hard else 0.7)
                edges += 1
    if not aggregated:
        kinds_used["Account"] = {"kind": "account", "colour": MEMBER_COLOUR, "hard": None}
    else:
        kinds_used["Group"] = {"kind": "accounts using the same identifiers", "colour": MEMBER_COLOUR, "hard": None}
    options = {"physics": {"solver": "forceAtlas2Based", "stabilization": {"enabled": True, "iterations": 400},
                           "forceAtlas2Based": {"gravitationalConstant": -60, "springLength": 40,
                                                "avoidOverlap": 0.4}},
               "interaction": {"hover": True, "tooltipDelay": 150},
               "nodes": {"font": {"size": 11}}, "edges": {"smooth": False}}
    return {"nodes": net.nodes, "edges": net.edges, "options": options, "shown": len(net.nodes), "total": total,
            "aggregated": aggregated, "budget": max_nodes,
            "legend": sorted(kinds_used.values(), key=lambda k: (k["hard"] is None, not k["hard"], k["kind"]))}
