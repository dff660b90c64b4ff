"""Report charts as PNG (base64), drawn with matplotlib's Agg renderer.

Figures are built with ``matplotlib.figure.Figure`` directly, never pyplot: no display, no global figure
state, so reports can be produced from the scheduler's threads. The PNGs carry no metadata text (no
software banner), so the HTML that embeds them holds no address at all.

Every string on a chart (campaign ids, capability labels) is loaded data, and loaded data is attacker-chosen:
each chart is built and drawn inside ``plain_text()``, so no text artist (title, axis label, tick label,
legend) parses ``$…$`` as mathtext or hands text to LaTeX.
"""
from __future__ import annotations

import base64
from contextlib import contextmanager
from datetime import date, timedelta
from functools import wraps
from io import BytesIO

import matplotlib

from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from graph.reports.compare import parse_time

WIDTH, HEIGHT, DPI = 9.0, 3.6, 100
MIX_CAPABILITIES = 6  # capabilities named in the mix chart; the rest is "other"


# Text is text: every Text made while these hold (also the tick labels made at draw time) has parse_math off.
PLAIN_TEXT = {"text.parse_math": False, "text.usetex": False}


@contextmanager
def plain_text():
    with matplotlib.rc_context(PLAIN_TEXT):
        yield


def _plain_chart(draw):
    """Build and save the chart with plain-text rendering (the PNG is drawn inside, so tick labels are too)."""
    @wraps(draw)
    def wrapped(*args, **kwargs):
        with plain_text():
            return draw(*args, **kwargs)

    return wrapped


def _legend_label(text: str) -> str:
    """matplotlib leaves labels starting with ``_`` out of the legend: a loaded label is shown whatever it is."""
    return " " + text if text.startswith("_") else text


def _png(figure: Figure) -> str:
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _time_axis(axes) -> None:
    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def _figure(height: float = HEIGHT) -> tuple[Figure, object]:
    figure = Figure(figsize=(WIDTH, height), layout="constrained")
    axes = figure.add_subplot()
    axes.grid(alpha=0.3)
    return figure, axes


@_plain_chart
def growth(history: dict[str, list[dict]]) -> str:
    """Accounts per detection run for each campaign (from the runs' FOUND edges)."""
    figure, axes = _figure()
    for campaign_id, points in history.items():
        axes.plot([parse_time(p["started_at"]) for p in points], [p["size"] for p in points],
                  marker="o", label=campaign_id)
    axes.set_ylabel("accounts")
    axes.set_ylim(bottom=0)
    times = {p["started_at"] for points in history.values() for p in points}
    if len(times) == 1:  # one run: a day either side, not matplotlib's default span of years
        only = parse_time(times.pop())
        axes.set_xlim(only - timedelta(days=1), only + timedelta(days=1))
    _time_axis(axes)
    axes.legend(loc="upper left", fontsize="small")
    return _png(figure)


@_plain_chart
def activity(series: dict[str, list[dict]]) -> str:
    """Requests per UTC day over each campaign's members."""
    figure, axes = _figure()
    for campaign_id, points in series.items():
        axes.plot([date.fromisoformat(p["day"]) for p in points], [p["requests"] for p in points],
                  drawstyle="steps-mid", label=campaign_id)
    axes.set_ylabel("requests per day")
    axes.set_ylim(bottom=0)
    _time_axis(axes)
    axes.legend(loc="upper left", fontsize="small")
    return _png(figure)


@_plain_chart
def capability_mix(mixes: dict[str, dict[str, int]]) -> str:
    """Share of each campaign's requests per capability, one horizontal stacked bar per campaign."""
    totals: dict[str, int] = {}
    for mix in mixes.values():
        for name, requests in mix.items():
            totals[name] = totals.get(name, 0) + requests
    named = sorted(totals, key=lambda name: (-totals[name], name))[:MIX_CAPABILITIES]
    campaigns = list(mixes)
    figure, axes = _figure(height=1.4 + 0.45 * len(campaigns))
    left = [0.0] * len(campaigns)
    for name in [*named, "other"]:
        shares = []
        for campaign_id in campaigns:
            mix, whole = mixes[campaign_id], sum(mixes[campaign_id].values()) or 1
            part = mix.get(name, 0) if name != "other" else sum(n for c, n in mix.items() if c not in named)
            shares.append(part / whole)
        if any(shares):
            axes.barh(campaigns, shares, left=left, label=_legend_label(name))
            left = [a + b for a, b in zip(left, shares)]
    axes.set_xlim(0, 1)
    axes.xaxis.set_major_formatter(lambda value, _: f"{value:.0%}")
    axes.invert_yaxis()  # the top campaign first
    if any(left):  # campaigns without capability data draw no bar, hence no legend
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=len(named) + 1, fontsize="small")
    return _png(figure)


def render(charts: dict) -> dict[str, str]:
    """The three charts (name -> base64 PNG) from ``collect()``'s chart data; none when there is no campaign."""
    if not charts["growth"]:
        return {}
    return {"growth": growth(charts["growth"]), "activity": activity(charts["activity"]),
            "capabilities": capability_mix(charts["capabilities"])}
