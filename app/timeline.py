"""A campaign's timeline as plain SVG geometry: accounts created and requests per day on one time axis, and the
model mix per day as stacked shares (a switch of most traffic to a new model shows as a step).

Returns numbers only; the template draws them (no script, no CDN) and every label goes in as escaped text.
"""
from __future__ import annotations

from datetime import date, timedelta

WIDTH, ROW_HEIGHT, LEFT, GAP = 760, 60, 130, 14
MAX_MODELS = 6  # models drawn by name; the rest are summed as "other"
PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#6b7280")


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def build(creation: list[dict], activity: list[dict], model_days: list[dict]) -> dict | None:
    """Geometry of the timeline (None when there is nothing to draw).

    ``creation``: rows ``{day, accounts}``; ``activity``: ``{day, requests}``; ``model_days``: ``{day, model,
    requests}`` (may be empty: the model row is then left out).
    """
    days = [d for d in (_day(r["day"]) for r in [*creation, *activity, *model_days]) if d is not None]
    if not days:
        return None
    first, last = min(days), max(days)
    span = (last - first).days + 1
    step = (WIDTH - LEFT) / span

    def x(day: date) -> float:
        return round(LEFT + (day - first).days * step, 2)

    width = max(round(step, 2) - (1 if step > 3 else 0), 0.5)
    rows = []
    for title, data, key in (("accounts created", creation, "accounts"), ("requests", activity, "requests")):
        peak = max((r[key] or 0 for r in data), default=0)
        top = len(rows) * (ROW_HEIGHT + GAP)
        bars = []
        for r in data:
            d = _day(r["day"])
            if d is None or not r[key]:
                continue
            h = round(ROW_HEIGHT * r[key] / peak, 2) if peak else 0
            bars.append({"x": x(d), "y": top + ROW_HEIGHT - h, "w": width, "h": h, "colour": PALETTE[0],
                         "title": f"{d.isoformat()}: {r[key]:,} {title}"})
        rows.append({"title": title, "y": top, "peak": peak, "bars": bars})

    models: list[str] = []
    if model_days:
        totals: dict[str, int] = {}
        for r in model_days:
            totals[r["model"]] = totals.get(r["model"], 0) + (r["requests"] or 0)
        models = sorted(totals, key=lambda m: (-totals[m], str(m)))[:MAX_MODELS]
        if len(totals) > MAX_MODELS:
            models.append("other")
        per_day: dict[date, dict[str, int]] = {}
        for r in model_days:
            d = _day(r["day"])
            if d is None:
                continue
            name = r["model"] if r["model"] in models else "other"
            per_day.setdefault(d, {})
            per_day[d][name] = per_day[d].get(name, 0) + (r["requests"] or 0)
        top = len(rows) * (ROW_HEIGHT + GAP)
        bars = []
        for d, counts in sorted(per_day.items()):
            total = sum(counts.values())
            y = top + ROW_HEIGHT
            for name in models:
                if not counts.get(name):
                    continue
                h = round(ROW_HEIGHT * counts[name] / total, 2)
                y -= h
                bars.append({"x": x(d), "y": round(y, 2), "w": width, "h": h,
                             "colour": PALETTE[models.index(name) % len(PALETTE)],
                             "title": f"{d.isoformat()}: {name} {counts[name]:,} of {total:,} requests"})
        rows.append({"title": "model mix", "y": top, "peak": None, "bars": bars})
    height = len(rows) * (ROW_HEIGHT + GAP) + 20
    ticks = []
    tick_every = max(1, span // 8)
    for i in range(0, span, tick_every):
        d = first + timedelta(days=i)
        ticks.append({"x": x(d), "label": d.isoformat()})
    return {"width": WIDTH, "height": height, "row_height": ROW_HEIGHT, "left": LEFT, "rows": rows, "ticks": ticks,
            "axis_y": height - 16, "first": first.isoformat(), "last": last.isoformat(),
            "legend": [{"model": m, "colour": PALETTE[i % len(PALETTE)]} for i, m in enumerate(models)]}
