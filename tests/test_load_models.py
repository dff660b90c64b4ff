"""Per-account model use: (:Model {name, first_seen}) and USED_MODEL {requests, first_seen, last_seen, days,
counts}, computed here row by row from small request files and compared with what the loader wrote; a re-run of
the same file changes nothing, a later load of other days adds them (counts add, first = min, last = max, days
merged), a re-load of a day replaces that day; hostile model names are stored as data."""
from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from graph import db
from loaders.pipeline import LoadOptions, load
from test_load import snapshot

HEADER = ["ts", "account_id", "ip", "api_key", "model", "input_tokens", "output_tokens", "prompt",
          "prompt_fingerprint", "capability"]
HOSTILE = "m'}) DETACH DELETE (n) //<script>"

FIRST = [  # ts, account, model
    ("2026-03-01T10:00:00Z", "a1", "m-old"), ("2026-03-01T11:00:00Z", "a1", "m-old"),
    ("2026-03-02T09:30:00Z", "a1", "m-old"), ("2026-03-02T23:59:59Z", "a1", "m-new"),
    ("2026-03-03T00:00:00Z", "a1", "m-new"), ("2026-03-01T08:00:00Z", "a2", "m-old"),
    ("2026-03-03T12:00:00Z", "a2", "m-new"), ("2026-03-03T12:00:01Z", "a2", HOSTILE),
    ("2026-03-03T13:00:00Z", "a3", ""),  # a request without a model: no USED_MODEL
]
LATER = [  # other days, plus an earlier m-new request than the first file knew
    ("2026-03-05T10:00:00Z", "a1", "m-new"), ("2026-03-05T10:01:00Z", "a1", "m-new"),
    ("2026-02-27T07:00:00Z", "a2", "m-new"), ("2026-03-06T00:00:00Z", "a2", "m-old"),
]


def _write(folder: Path, rows) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "requests.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for ts, account, model in rows:
            out.writerow([ts, account, "203.0.113.7", "", model, 10, 20, "hello there", "", "chat"])
    return folder


def _load(tmp_path: Path, folder: Path):
    summary = load([folder], LoadOptions(rejects_path=tmp_path / "rejects.csv", progress=False))
    assert not summary.log.any and summary.written, summary.lines()
    return summary


def _expected(rows) -> tuple[dict, dict]:
    """USED_MODEL and Model values computed from the rows, one by one."""
    per_day: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    times: dict[tuple[str, str], list[str]] = defaultdict(list)
    first: dict[str, str] = {}
    for ts, account, model in rows:
        if not model:
            continue
        per_day[(account, model)][ts[:10]] += 1
        times[(account, model)].append(ts)
        first[model] = min(first.get(model, ts), ts)
    edges = {key: {"requests": sum(days.values()), "first": min(times[key]), "last": max(times[key]),
                   "days": sorted(days), "counts": [days[d] for d in sorted(days)]} for key, days in per_day.items()}
    return edges, first


def _stored() -> tuple[dict, dict]:
    edges = db.driver().execute_query(
        "MATCH (a:Account)-[r:USED_MODEL]->(m:Model) RETURN a.account_id AS account, m.name AS model, "
        "r.requests AS requests, r.first_seen AS first, r.last_seen AS last, r.days AS days, r.counts AS counts",
        database_=db.database()).records
    models = db.driver().execute_query("MATCH (m:Model) RETURN m.name AS name, m.first_seen AS first",
                                       database_=db.database()).records
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return ({(r["account"], r["model"]): {"requests": r["requests"], "first": r["first"].to_native().strftime(fmt),
                                          "last": r["last"].to_native().strftime(fmt), "days": r["days"],
                                          "counts": r["counts"]} for r in edges},
            {r["name"]: r["first"].to_native().strftime(fmt) for r in models})


def test_model_use_is_written_exactly_and_a_rerun_changes_nothing(empty_db, tmp_path):
    folder = _write(tmp_path / "first", FIRST)
    _load(tmp_path, folder)
    edges, models = _stored()
    assert (edges, models) == _expected(FIRST)
    assert edges[("a1", "m-old")] == {"requests": 3, "first": "2026-03-01T10:00:00Z", "last": "2026-03-02T09:30:00Z",
                                      "days": ["2026-03-01", "2026-03-02"], "counts": [2, 1]}
    assert models == {"m-old": "2026-03-01T08:00:00Z", "m-new": "2026-03-02T23:59:59Z",
                      HOSTILE: "2026-03-03T12:00:01Z"}
    # the account's model mix is kept as before
    mix = db.driver().execute_query("MATCH (a:Account {account_id: 'a1'}) RETURN a.models AS m, a.model_counts AS c",
                                    database_=db.database()).records[0]
    assert (mix["m"], mix["c"]) == (["m-old", "m-new"], [3, 2])
    before = snapshot()
    _load(tmp_path, folder)  # the same file again: no duplicates, nothing doubled
    assert snapshot() == before


def test_later_loads_aggregate_and_a_reloaded_day_is_replaced_not_added(empty_db, tmp_path):
    _load(tmp_path, _write(tmp_path / "first", FIRST))
    _load(tmp_path, _write(tmp_path / "later", LATER))
    edges, models = _stored()
    assert (edges, models) == _expected(FIRST + LATER)  # counts add, first = min, last = max, days merged
    assert edges[("a2", "m-new")]["days"] == ["2026-02-27", "2026-03-03"]
    assert models["m-new"] == "2026-02-27T07:00:00Z"  # an earlier request moves the model's first appearance
    # loading both again, in the other order, changes no model use (the account's usage features are those of
    # the latest load, as documented) and duplicates nothing
    before = _stored()
    _load(tmp_path, tmp_path / "later")
    _load(tmp_path, tmp_path / "first")
    assert _stored() == before
    assert db.driver().execute_query("MATCH ()-[r:USED_MODEL]->() RETURN count(r) AS n").records[0]["n"] == len(before[0])
    assert db.driver().execute_query("MATCH (m:Model) RETURN count(m) AS n").records[0]["n"] == len(before[1])
    # a load that has a stored day again holds all of that day's requests: its count replaces the stored one
    _load(tmp_path, _write(tmp_path / "day", [("2026-03-05T12:00:00Z", "a1", "m-new")]))
    edges, _ = _stored()
    assert edges[("a1", "m-new")]["days"] == ["2026-03-02", "2026-03-03", "2026-03-05"]
    assert edges[("a1", "m-new")]["counts"] == [1, 1, 1] and edges[("a1", "m-new")]["requests"] == 3
    assert edges[("a1", "m-new")]["last"] == "2026-03-05T12:00:00Z"
