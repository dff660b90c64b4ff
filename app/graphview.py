"""Network views: pyvis builds the network, our own page template draws it.

pyvis's bundled HTML template pulls Bootstrap from a CDN, so Linkwatch does not
use it. Instead pyvis builds nodes, edges and options, and the page loads the
vis-network script that ships inside the pyvis package, served by this app at
``/vendor/vis/…`` — no request ever leaves the analyst's network.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

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
