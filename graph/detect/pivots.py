"""Model-release pivots: did a cluster move its traffic to a newly released model at once?

Operators of distillation campaigns redirect their fleets to a new model within a day of its release; honest
users reach a new model over days and weeks, each at their own pace. For every model whose first appearance in
the data (``Model.first_seen``, written by the loader) comes after the cluster's first request, the members
that were active on both sides of the release ("chance-holders") are read from their ``USED_MODEL`` edges
(``cypher/detect/model_pivots.cypher``) and measured as:

* ``share``: the new model's share of the chance-holders' requests from the release day on;
* ``value``: the part of that traffic that moved *in step*: requests on the new model by chance-holders whose
  own first request on it came within ``PIVOT_WINDOW_HOURS`` of the model's first appearance, over all their
  requests from the release day on. A fleet switched by one operator has every member inside the window, so
  value ≈ share (≈ 0.5 when half the traffic moved); honest members adopting over weeks are mostly outside it,
  so value ≈ 0 even when the model eventually carries much of their traffic;
* ``hours``: the latest of those in-window first uses, after the model's first appearance.

The model with the largest value is reported; docs/detection.md ("Model-release pivots") explains the choice.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from graph import db

# "Within a day": the published distillation cases describe operators redirecting traffic to a new model
# within 24 hours of its release. Adoption later than this is what honest users do.
PIVOT_WINDOW_HOURS = 24.0
# members per statement: one statement per batch keeps each transaction's memory bounded (as scoring does)
PIVOT_BATCH_ACCOUNTS = 50_000


@dataclass(frozen=True)
class Pivot:
    """How strongly a cluster moved its traffic to a new model at once (0: not at all, 1: all of it)."""

    value: float  # in [0, 1]: share of the cluster's post-release traffic moved within the window
    model: str | None  # the model it moved to (None: no model released during the cluster's activity)
    share: float  # the model's share of the cluster's post-release traffic (in step or not)
    hours: float  # latest first use of the model by an in-step member, hours after its first appearance
    sentence: str  # evidence text ("" when value is 0)
    members: int = 0  # members active on both sides of the release
    switched: int = 0  # of them, those whose first use came within the window


NO_PIVOT = Pivot(0.0, None, 0.0, 0.0, "")


def cluster_pivots(clusters: dict[str, list[str]], window_hours: float = PIVOT_WINDOW_HOURS) -> dict[str, Pivot]:
    """The strongest model-release pivot of each cluster (key -> member account ids); every key is answered."""
    out = {key: NO_PIVOT for key in clusters}
    for batch in _batches(clusters):
        for row in db.run("detect/model_pivots", clusters=batch, window_hours=float(window_hours)):
            out[row["cluster"]] = strongest(row["models"])
    return out


def strongest(models: list[dict]) -> Pivot:
    """The pivot of the model with the largest value (ties: larger share, then the smaller name)."""
    pivots = [measure(m) for m in models]
    pivots = [p for p in pivots if p.model is not None]
    if not pivots:
        return NO_PIVOT
    return min(pivots, key=lambda p: (-p.value, -p.share, p.model))


def measure(m: dict) -> Pivot:
    """One model's pivot from the aggregates of cypher/detect/model_pivots.cypher."""
    post = m["post"] or 0
    if post <= 0 or not m["holders"]:
        return Pivot(0.0, m["model"], 0.0, 0.0, "", m["holders"] or 0, 0)
    value = min(1.0, max(0.0, (m["moved"] or 0) / post))
    share = min(1.0, max(0.0, (m["on_model"] or 0) / post))
    hours = float(m["hours"] or 0.0)
    sentence = ""
    if value > 0:
        shown = max(1, math.ceil(hours))
        sentence = (f"{round(value * 100)} % of the cluster's traffic moved to {m['model']} within {shown} h of "
                    f"{m['model']}'s first appearance in the data ({m['switched']} of {m['holders']} members "
                    f"active before and after it switched)")
    return Pivot(round(value, 4), m["model"], round(share, 4), round(hours, 2), sentence, m["holders"],
                 m["switched"])


def _batches(clusters: dict[str, list[str]]):
    """Clusters in batches of about PIVOT_BATCH_ACCOUNTS members (a bigger cluster is one batch of its own)."""
    batch, size = [], 0
    for key, members in clusters.items():
        batch.append({"cluster": key, "members": list(members)})
        size += len(members)
        if size >= PIVOT_BATCH_ACCOUNTS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch
