"""Model-release pivots: a fleet that moves half its traffic to a new model within hours of its first appearance
scores high, an honest team adopting the same model over weeks (one early adopter included) scores low although
the model ends up carrying much of its traffic, a cluster that started after the release has no pivot; the
values equal what is computed here from the request rows; batching does not change them; on the demo world a
planted campaign's pivot is found and honest companies' are not."""
from __future__ import annotations

import csv
import math
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from graph.detect import pivots
from loaders.pipeline import LoadOptions, load

START = datetime(2026, 3, 1, tzinfo=timezone.utc)
RELEASE = datetime(2026, 3, 10, tzinfo=timezone.utc)  # the pioneer's first request on m-new
END = datetime(2026, 4, 10, tzinfo=timezone.utc)
NEW = "m-new"
FLEET = [f"f{i}" for i in range(8)]
TEAM = [f"h{i}" for i in range(6)]
LATE = [f"l{i}" for i in range(4)]


def _traffic(account: str, begin: datetime, switch: datetime | None, step_hours: int = 6) -> list[tuple]:
    """A request every ``step_hours``; from ``switch`` on every other request goes to the new model."""
    rows, t, k = [], begin, 0
    while t < END:
        on_new = switch is not None and t >= switch and k % 2 == 0
        rows.append((t, account, NEW if on_new else "m-old"))
        t += timedelta(hours=step_hours)
        k += 1
    return rows


def world() -> list[tuple]:
    rows = [(RELEASE + timedelta(hours=h), "pioneer", NEW) for h in range(0, 24 * 20, 12)]
    for i, account in enumerate(FLEET):  # one operator: every account switched 8 h after release
        rows += _traffic(account, START + timedelta(minutes=7 * i), RELEASE + timedelta(hours=8))
    for i, account in enumerate(TEAM):  # honest: one early adopter after 3 h, the rest over weeks
        adopt = RELEASE + (timedelta(hours=3) if i == 0 else timedelta(days=4 * i))
        rows += _traffic(account, START + timedelta(minutes=11 * i), adopt)
    for account in LATE:  # first request after the release: nothing to pivot from
        rows += _traffic(account, datetime(2026, 3, 15, tzinfo=timezone.utc), datetime(2026, 3, 16, tzinfo=timezone.utc))
    return rows


def expected(rows: list[tuple], members: list[str]) -> tuple[float, float, float]:
    """(value, share, hours) computed from the rows as docs/detection.md defines them."""
    released = min(t for t, _, m in rows if m == NEW)
    mine = [r for r in rows if r[1] in members]
    holders = {a for a in members if min(t for t, b, _ in mine if b == a) < released <= max(t for t, b, _ in mine if b == a)}
    post = [r for r in mine if r[1] in holders and r[0].date() >= released.date()]
    first_new = {a: min(t for t, b, m in mine if b == a and m == NEW) for a in holders}
    in_step = {a for a, t in first_new.items() if t - released <= timedelta(hours=24)}
    moved = sum(1 for _, a, m in post if m == NEW and a in in_step)
    hours = max((first_new[a] - released).total_seconds() / 3600 for a in in_step)
    return moved / len(post), sum(1 for _, _, m in post if m == NEW) / len(post), hours


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, _server_ready):
    from graph import db

    db.wipe()
    db.apply_schema()
    folder = tmp_path_factory.mktemp("pivots") / "bundle"
    folder.mkdir()
    rows = world()
    with (folder / "requests.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["ts", "account_id", "model", "capability"])
        for t, account, model in rows:
            out.writerow([t.strftime("%Y-%m-%dT%H:%M:%SZ"), account, model, "chat"])
    summary = load([folder], LoadOptions(rejects_path=folder.parent / "rejects.csv", progress=False))
    assert not summary.log.any, summary.lines()
    return rows


def test_a_fleet_switching_within_hours_is_a_pivot_and_gradual_adoption_is_not(loaded):
    found = pivots.cluster_pivots({"fleet": FLEET, "team": TEAM, "late": LATE, "nobody": ["no-such-account"]})
    fleet, team = found["fleet"], found["team"]
    value, share, hours = expected(loaded, FLEET)
    assert (fleet.model, fleet.value, fleet.share) == (NEW, pytest.approx(value, abs=1e-4), pytest.approx(share, abs=1e-4))
    assert fleet.hours == pytest.approx(hours, abs=0.01) and 8 <= fleet.hours < 24
    assert fleet.value > 0.45 and (fleet.members, fleet.switched) == (8, 8)
    assert fleet.sentence == (f"{round(value * 100)} % of the cluster's traffic moved to m-new within {math.ceil(hours)} h "
                              "of m-new's first appearance in the data (8 of 8 members active before and after it "
                              "switched)")
    value, share, _ = expected(loaded, TEAM)
    assert (team.model, team.value, team.share) == (NEW, pytest.approx(value, abs=1e-4), pytest.approx(share, abs=1e-4))
    # the team ends up with much of its traffic on the new model, but only its early adopter moved at once
    assert team.share > 0.3 and team.value < 0.1 and (team.members, team.switched) == (6, 1)
    assert team.value < fleet.value / 5
    assert found["late"] == pivots.NO_PIVOT and found["nobody"] == pivots.NO_PIVOT
    assert 0.0 <= team.value <= 1.0 and 0.0 <= fleet.value <= 1.0


def test_batches_do_not_change_the_result(loaded, monkeypatch):
    clusters = {"fleet": FLEET, "team": TEAM, "late": LATE}
    whole = pivots.cluster_pivots(clusters)
    monkeypatch.setattr(pivots, "PIVOT_BATCH_ACCOUNTS", 3)
    assert pivots.cluster_pivots(clusters) == whole


def test_hostile_model_names_are_data(loaded):
    pivot = pivots.measure({"model": "<b>$x$</b>'; DROP", "holders": 2, "post": 10, "on_model": 6, "adopters": 2,
                            "moved": 5, "switched": 2, "hours": 0.5})
    assert (pivot.value, pivot.share, pivot.hours) == (0.5, 0.6, 0.5)
    assert pivot.sentence.startswith("50 % of the cluster's traffic moved to <b>$x$</b>'; DROP within 1 h of")


def _truth(bundle: Path, name: str, key: str) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    with (bundle / name).open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row[key]:
                groups.setdefault(row[key], []).append(row["account_id"])
    return groups


@pytest.mark.slow
def test_demo_world_campaigns_pivot_and_honest_companies_do_not(demo_detected):
    demo_bundle = demo_detected.bundle  # the shared demo world, loaded and detected once (tests/conftest.py)
    campaigns = _truth(demo_bundle, "truth.csv", "campaign_id")
    companies = {g: m for g, m in _truth(demo_bundle, "truth_groups.csv", "group_id").items()
                 if g.startswith("company-") and len(m) >= 5}
    assert campaigns and companies
    started = time.perf_counter()
    found = pivots.cluster_pivots({**campaigns, **companies})
    print(f"pivots of {len(campaigns) + len(companies)} clusters in {time.perf_counter() - started:.1f} s")
    planted = sorted(found[c].value for c in campaigns)
    honest = sorted(found[c].value for c in companies)
    print("campaigns", planted, "companies (largest values)", honest[-3:], "of", len(honest))
    assert planted[-1] >= 0.3 and found[max(campaigns, key=lambda c: found[c].value)].model == "atlas-4"
    assert found[max(campaigns, key=lambda c: found[c].value)].hours <= 24
    # honest companies adopt over weeks: none comes near the planted campaigns
    assert honest[-1] < planted[-1] / 2
