"""`linkwatch report`: composed lineage events, report files (HTML/JSON/CSV/STIX), (:Report) records.

The world is a hand-made bundle loaded with `linkwatch load` and detected with `linkwatch detect`:
campaign A (30 accounts, later 40) on three shared cards, datacenter and residential-proxy exits and three
templates; campaign B (20 accounts) on two cards and IPv6 hosting exits; an honest company, ten people and
120 households (the population the scores are calibrated on).
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from markupsafe import escape
from stix2validator import ValidationOptions, validate_string

from app.cli import main
from graph import db, reports
from graph.act import chokepoints
from graph.config import managed_paths
from graph.detect.lineage import birth_id
from graph.reports import output
from graph.reports.compare import Record, compose, summarize

CAMPAIGN_A = birth_id(f"op{i:02d}" for i in range(30))
CAMPAIGN_B = birth_id(f"bot{i:02d}" for i in range(20))
# the start of campaign A's strongest evidence line (the rest names how many clusters the run scored)
A_FIRST_EVIDENCE = "100% of their requests use 3 prompt templates that at least a quarter of the accounts send (rarer than"
PNG = '<img src="data:image/png;base64,'


def cypher(query: str, **params):
    return db.driver().execute_query(query, params).records


# ---- the world --------------------------------------------------------------------------------------------

INTEL = [["198.51.100.0/24", 64502, "Example Cloud", "datacenter", ""],
         ["203.0.113.0/24", 64510, "Home Broadband", "residential", "PeerGate"],
         ["2001:db8::/32", 64503, "Example v6 Hosting", "hosting", "CloudHop"],
         ["192.0.2.0/24", 64520, "Contoso Office", "none", ""]]


def _write(folder: Path, name: str, header: list[str], rows: list[list]) -> None:
    with (folder / f"{name}.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _operators(first: int, last: int):
    """Campaign A: two cards each of a pool of three, datacenter + residential exits, three templates."""
    accounts, links, requests = [], [], []
    for i in range(first, last):
        account = f"op{i:02d}"
        accounts.append([account, f"2026-04-01T{i % 24:02d}:00:00Z", f"{account}@mail.example", "", "US"])
        links += [[account, "payment", f"pm_pool_{card}"] for card in (i % 3, (i + 1) % 3)]
        for k in range(20):
            ip = f"198.51.100.{i % 5}" if k % 2 == 0 else f"203.0.113.{i % 4}"
            requests.append([f"2026-04-{20 + k % 10}T03:{k:02d}:00Z", account, ip, 300, 1500, f"fp_cot_{k % 3}",
                             "reasoning" if k % 10 < 7 else "tool_use"])
    return accounts, links, requests


def _bots():
    """Campaign B: 20 accounts opened within 20 minutes on two cards, three IPv6 hosting exits, one template,
    coding only."""
    accounts, links, requests = [], [], []
    for i in range(20):
        account = f"bot{i:02d}"
        accounts.append([account, f"2026-04-10T03:{i:02d}:30Z", f"{account}@bots.example", "", "SG"])
        links += [[account, "payment", f"pm_bot_{card}"] for card in (0, 1)]
        for k in range(15):
            requests.append([f"2026-04-{12 + k % 5}T0{k % 4}:{k:02d}:00Z", account, f"2001:db8::{i % 3 + 1}",
                             200, 900, "fp_code", "coding"])
    return accounts, links, requests


def _honest():
    """A 20-person company behind one office address and ten unrelated people."""
    accounts, links, requests = [], [], []
    mix = ["chat", "coding", "writing", "analysis", "summarization"]
    for i in range(20):
        account = f"emp{i:02d}"
        accounts.append([account, f"2026-01-{10 + i % 10}T09:00:00Z", f"e{i}@contoso.example", "Contoso Ltd", "GB"])
        links.append([account, "payment", "pm_contoso"])
        for k in range(3 + i % 7):
            requests.append([f"2026-04-{10 + k}T{9 + k % 8:02d}:00:00Z", account, "192.0.2.10", 50, 200,
                             f"own_{account}_{k}", mix[(i + k) % 5]])
    for i in range(10):
        account = f"solo{i}"
        accounts.append([account, "2025-11-01T00:00:00Z", f"s{i}@example.org", "", "FR"])
        requests.append(["2026-04-15T12:00:00Z", account, f"10.0.0.{i}", 20, 80, f"solo_{i}", "chat"])
    # the population scores are calibrated on: 120 households of three sharing a card and a home address,
    # accounts opened months apart, their own prompts, varied hours and volumes
    for h in range(120):
        for j in range(3):
            account = f"hh{h:03d}_{j}"
            accounts.append([account, f"2025-{1 + (h + 4 * j) % 12:02d}-{1 + (h * 7 + j) % 28:02d}T18:00:00Z",
                             f"{account}@home.example", "", "DE"])
            links.append([account, "payment", f"pm_hh_{h}"])
            for k in range(2 + (h * 3 + j) % 7):
                requests.append([f"2026-04-{10 + (h + k) % 18:02d}T{(7 + h + 5 * j + 3 * k) % 24:02d}:00:00Z", account,
                                 f"100.64.{h}.1", 40, 150, f"own_{account}_{k}", mix[(h + j + k) % 5]])
    return accounts, links, requests


def _load(folder: Path, parts, intel: bool = True) -> None:
    folder.mkdir(parents=True)
    accounts, links, requests = ([row for part in parts for row in part[n]] for n in range(3))
    _write(folder, "accounts", ["account_id", "created_at", "email", "org", "country"], accounts)
    _write(folder, "links", ["account_id", "kind", "value"], links)
    _write(folder, "requests", ["ts", "account_id", "ip", "input_tokens", "output_tokens", "prompt_fingerprint",
                                "capability"], requests)
    if intel:
        _write(folder, "ip_intel", ["network", "asn", "as_org", "proxy_type", "proxy_network"], INTEL)
    assert main(["load", str(folder), "--quiet", "--rejects", str(folder.parent / f"{folder.name}-rejects.csv")]) == 0


def _detect() -> str:
    assert main(["detect"]) == 0
    return cypher("MATCH (r:DetectionRun) RETURN r.run_id AS id ORDER BY r.started_at DESC LIMIT 1")[0]["id"]


def _shift(run_id: str, days: int) -> None:
    """Move a run back in time, as if it had been run `days` earlier."""
    cypher("MATCH (r:DetectionRun {run_id: $id}) SET r.started_at = r.started_at - duration({days: $days}), "
           "r.finished_at = r.finished_at - duration({days: $days})", id=run_id, days=days)


@pytest.fixture(scope="module")
def history(tmp_path_factory, _server_ready):
    """Three runs: A and B new; A grown to 40; B ended (its links removed). Runs 10 days, 2 days and 0 days old."""
    db.wipe()
    db.apply_schema()
    folder = tmp_path_factory.mktemp("history")
    _load(folder / "period1", [_operators(0, 30), _bots(), _honest()])
    first = _detect()
    _load(folder / "period2", [_operators(30, 40)], intel=False)
    second = _detect()
    cypher("MATCH (a:Account)-[r:HAS_IDENTIFIER|USED_IP|USED_NETWORK|USED_ASN|SENT]->() "
           "WHERE a.account_id STARTS WITH 'bot' DELETE r")
    third = _detect()
    _shift(first, 10)
    _shift(second, 2)
    return {"first": first, "second": second, "third": third}


def _report(out: Path, *args: str) -> dict:
    assert main(["report", "--out", str(out), *args]) == 0
    return json.loads((out / "report.json").read_text())


# ---- composing events -------------------------------------------------------------------------------------

def test_events_are_composed_over_several_runs():
    before = {"A": Record("r0", "A", "new", (), 10, 60.0), "B": Record("r0", "B", "new", (), 5, 55.0),
              "C": Record("r0", "C", "new", (), 4, 40.0), "G": Record("r0", "G", "new", (), 8, 70.0)}
    span = [Record("r1", "A", "merged", ("B",), 14, 65.0), Record("r1", "B", "ended", ("A",)),
            Record("r1", "G", "grown", (), 9, 70.0), Record("r1", "X", "new", (), 3, 30.0),
            Record("r2", "A", "shrunk", (), 12, 62.0), Record("r2", "D", "split", ("A",), 3, 35.0),
            Record("r2", "X", "ended"), Record("r2", "G", "shrunk", (), 8, 70.0),
            Record("r2", "E", "new", (), 6, 50.0), Record("r2", "C", "ended")]
    after = {r.campaign_id: r for r in span if r.run_id == "r2" and r.event != "ended"}

    changes = {c.campaign_id: c for c in compose(before, after, span)}

    # A absorbed B in the run in between: merged, although it is larger than before
    assert (changes["A"].event, changes["A"].related, changes["A"].size_before, changes["A"].size) == ("merged", ["B"], 10, 12)
    assert (changes["D"].event, changes["D"].related, changes["D"].size_before) == ("split", ["A"], None)
    assert (changes["E"].event, changes["E"].related) == ("new", [])
    assert (changes["B"].event, changes["B"].related, changes["B"].size) == ("ended", ["A"], None)
    assert (changes["C"].event, changes["C"].related) == ("ended", [])
    assert changes["G"].event == "unchanged"  # grew then shrank back: the two ends are compared
    assert "X" not in changes  # born and ended in between: only listed as recorded
    assert summarize(list(changes.values())) == {"new": 1, "grown": 0, "merged": 1, "split": 1, "shrunk": 0,
                                                 "ended": 2, "unchanged": 1}
    # the only run: everything is new
    assert [(c.event, c.size_before) for c in compose(None, {"A": before["A"]}, [])] == [("new", None)]


# ---- errors -----------------------------------------------------------------------------------------------

def test_no_detection_run_is_a_clear_error(empty_db, tmp_path, capsys):
    assert main(["report", "--out", str(tmp_path / "r")]) == 2
    assert capsys.readouterr().err.strip() == (
        "linkwatch: error: no detection run yet: run `linkwatch detect` first")
    assert not (tmp_path / "r").exists()
    assert list(tmp_path.iterdir()) == []


def test_bad_options_are_clear_errors(history, tmp_path, capsys):
    assert main(["report", "--out", str(tmp_path / "r"), "--format", "html,pdf"]) == 2
    assert "unknown report format 'pdf': choose one or more of html,json,csv,stix" in capsys.readouterr().err
    assert main(["report", "--out", str(tmp_path / "r"), "--top", "0"]) == 2
    assert "--top must be at least 1 (got 0)" in capsys.readouterr().err
    assert main(["report", "--out", str(tmp_path / "r"), "--since", "soon"]) == 2
    assert "--since 'soon' is neither a run id (run-…) nor a duration like 24h, 7d or 2w" in capsys.readouterr().err
    assert main(["report", "--out", str(tmp_path / "r"), "--since", "run-nope"]) == 2
    assert "--since run-nope: no such detection run" in capsys.readouterr().err
    assert main(["report", "--out", str(tmp_path / "r"), "--since", history["third"]]) == 2
    assert "is the latest run itself" in capsys.readouterr().err
    assert main(["report", "--out", str(tmp_path / "r"), "--since", "30d"]) == 2
    assert "no detection run started 30d or more before the latest run" in capsys.readouterr().err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    assert main(["report", "--out", str(tmp_path / "full")]) == 2
    assert "already exists and is not an empty folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]  # nothing half-written
    assert cypher("MATCH (r:Report) WHERE r.path STARTS WITH $p RETURN count(r) AS n", p=str(tmp_path))[0]["n"] == 0


def test_a_crash_leaves_no_half_report(history, tmp_path, monkeypatch):
    def broken(path, rows):
        raise OSError("disk full")

    monkeypatch.setattr(output, "write_csv", broken)
    with pytest.raises(reports.ReportFailed, match="disk full") as failure:
        reports.generate(out_dir=tmp_path / "r")
    assert list(tmp_path.iterdir()) == []  # neither the report folder nor its temporary sibling
    assert cypher("MATCH (r:Report) WHERE r.path STARTS WITH $p RETURN count(r) AS n", p=str(tmp_path))[0]["n"] == 0
    # the failure itself is recorded, with the error in one line
    record = reports.get_report(failure.value.report_id)
    assert (record["status"], record["error"], record["path"]) == ("failed", "OSError: disk full", None)
    cypher("MATCH (r:Report {report_id: $id}) DETACH DELETE r", id=failure.value.report_id)


# ---- the latest run against the one before ----------------------------------------------------------------

def test_report_against_the_previous_run(history, tmp_path):
    out = tmp_path / "r"
    report = _report(out)

    assert report["latest_run"]["run_id"] == history["third"] and report["since_run"]["run_id"] == history["second"]
    assert (report["latest_run"]["campaigns"], report["latest_run"]["flagged_campaigns"]) == (1, 1)
    assert (report["since_run"]["campaigns"], report["latest_run"]["accounts"]) == (2, 90 + 360)
    assert report["summary"] == {"new": 0, "grown": 0, "merged": 0, "split": 0, "shrunk": 0, "ended": 1, "unchanged": 1}
    changes = {c["campaign_id"]: c for c in report["changes"]}
    assert {k: changes[CAMPAIGN_B][k] for k in ("event", "related", "size_before", "size", "score")} == {
        "event": "ended", "related": [], "size_before": 20, "size": None, "score": None}
    assert changes[CAMPAIGN_B]["score_before"] >= 50  # it was flagged before it ended
    assert {k: changes[CAMPAIGN_A][k] for k in ("event", "size_before", "size", "flagged", "requests")} == {
        "event": "unchanged", "size_before": 40, "size": 40, "flagged": True, "requests": 800}
    assert report["between"] == [] and report["runs_between"] == 0 and report["only_run"] is False

    # top campaigns: A with its evidence and the accounting labs publish, as stored by detection
    stored = cypher("MATCH (c:Campaign {campaign_id: $id}) RETURN c.evidence AS evidence, c.accounting AS accounting",
                    id=CAMPAIGN_A)[0]
    [top] = report["top"]
    assert top["campaign_id"] == CAMPAIGN_A and top["evidence"] == stored["evidence"]
    assert top["evidence"][0].startswith(A_FIRST_EVIDENCE)
    assert top["accounting"] == json.loads(stored["accounting"])
    assert {k: top["accounting"][k] for k in ("accounts", "requests", "input_tokens", "output_tokens", "active_days",
                                              "requests_per_account", "capabilities")} == {
        "accounts": 40, "requests": 800, "input_tokens": 240_000, "output_tokens": 1_200_000, "active_days": 10,
        "requests_per_account": 20.0, "capabilities": {"reasoning": 0.7, "tool_use": 0.3}}
    assert top["top_capabilities"] == "reasoning 70%; tool_use 30%"
    # what to block: the chokepoint plan of every flagged campaign, also on its top entry
    assert report["chokepoints"] == {CAMPAIGN_A: chokepoints.plan(CAMPAIGN_A)} and top["chokepoints"] == report["chokepoints"][CAMPAIGN_A]
    assert top["chokepoints"]["identifiers"] == [{"kind": "asn", "value": "64502", "accounts": 40, "requests": 800,
                                                  "collateral_accounts": 0, "collateral_requests": 0}]

    # chart data: A's size in each run, its members' requests per day, its capability mix
    charts = report["charts"]
    assert [p["size"] for p in charts["growth"][CAMPAIGN_A]] == [30, 40, 40]
    assert charts["activity"][CAMPAIGN_A] == [{"day": f"2026-04-{d}", "requests": 80} for d in range(20, 30)]
    assert charts["capabilities"][CAMPAIGN_A] == {"reasoning": 560, "tool_use": 240}

    # HTML: self-contained, the evidence, three charts
    page = (out / "report.html").read_text()
    assert str(escape(A_FIRST_EVIDENCE)) in page
    assert page.count(PNG) == 3
    assert "What to block (chokepoints)" in page
    assert re.search(r"<tr><td>asn</td><td class=\"id\">64502</td><td class=\"num\">40</td>\s*<td class=\"num\">800</td>"
                     r"<td class=\"num\">0</td>\s*<td class=\"num\">0</td></tr>", page)
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert "//" not in text and not re.search(r"\b(https?|ftp|file|www)\b", text)  # no address of any kind
    assert [url[:22] for url in re.findall(r'(?:src|href)="([^"]*)"', page)] == ["data:image/png;base64,"] * 3
    assert "@import" not in page and "url(" not in page

    # CSV: one row per campaign, agreeing with the runs' FOUND edges
    rows = {r["campaign_id"]: r for r in csv.DictReader((out / "campaigns.csv").open())}
    assert list(csv.reader((out / "campaigns.csv").open()))[0] == output.CSV_COLUMNS
    found = {(r["run"], r["id"]): (r["size"], r["score"]) for r in cypher(
        "MATCH (r:DetectionRun)-[f:FOUND]->(c:Campaign) WHERE r.run_id IN $runs "
        "RETURN r.run_id AS run, c.campaign_id AS id, f.size AS size, f.score AS score",
        runs=[history["second"], history["third"]])}
    assert rows[CAMPAIGN_A]["size"] == str(found[(history["third"], CAMPAIGN_A)][0]) == "40"
    assert rows[CAMPAIGN_A]["score"] == str(found[(history["third"], CAMPAIGN_A)][1])
    assert rows[CAMPAIGN_B]["size_before"] == str(found[(history["second"], CAMPAIGN_B)][0]) == "20"
    assert (rows[CAMPAIGN_B]["event"], rows[CAMPAIGN_B]["size"], rows[CAMPAIGN_B]["flagged"]) == ("ended", "", "true")
    assert rows[CAMPAIGN_A]["top_capabilities"] == "reasoning 70%; tool_use 30%"
    assert rows[CAMPAIGN_A]["first_activity"] == "2026-04-20T03:00:00Z"

    # the (:Report) record, linked to both runs, and the API the Reports page reads
    record = reports.get_report(report["report_id"])
    assert record == {"report_id": report["report_id"], "created_at": report["created_at"], "status": "ok",
                      "trigger": "cli", "run_id": history["third"], "since_run_id": history["second"],
                      "formats": ["html", "json", "csv", "stix"], "path": str(out), "summary": report["summary"],
                      "error": None}
    covers = cypher("MATCH (:Report {report_id: $id})-[c:COVERS]->(r:DetectionRun) RETURN c.role AS role, r.run_id AS run",
                    id=report["report_id"])
    assert {(r["role"], r["run"]) for r in covers} == {("latest", history["third"]), ("since", history["second"])}
    assert report["report_id"] in [r["report_id"] for r in reports.list_reports(100)]


def test_stix_indicators_validate_and_hold_no_personal_data(history, tmp_path):
    out = tmp_path / "r"
    assert main(["report", "--out", str(out), "--format", "stix"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["indicators.stix.json"]
    text = (out / "indicators.stix.json").read_text()

    result = validate_string(text, ValidationOptions(strict=True))  # strict: warnings count as errors
    assert result.is_valid and result.errors == [] and result.warnings == []

    bundle = json.loads(text)
    kinds = [o["type"] for o in bundle["objects"]]
    [campaign] = [o for o in bundle["objects"] if o["type"] == "campaign"]  # B has ended: only A is flagged
    assert campaign["name"] == CAMPAIGN_A and A_FIRST_EVIDENCE in campaign["description"]
    assert (campaign["first_seen"], campaign["last_seen"]) == ("2026-04-20T03:00:00Z", "2026-04-29T03:19:00Z")
    patterns = sorted(o["pattern"] for o in bundle["objects"] if o["type"] == "indicator")
    sha = lambda v: hashlib.sha256(v.encode()).hexdigest()  # noqa: E731
    assert patterns == sorted(
        [f"[ipv4-addr:value = '198.51.100.{i}']" for i in range(5)]
        + ["[ipv4-addr:value ISSUBSET '198.51.100.0/24']", "[autonomous-system:number = 64502]",
           "[x-linkwatch-proxy-network:name = 'PeerGate']"]
        + [f"[x-linkwatch-payment-method:fingerprint_sha256 = '{sha(f'pm_pool_{k}')}']" for k in range(3)]
        + [f"[x-linkwatch-prompt-template:id_sha256 = '{sha(f'fp_cot_{k}')}']" for k in range(3)])
    relationships = [o for o in bundle["objects"] if o["type"] == "relationship"]
    indicates = [r for r in relationships if r["relationship_type"] == "indicates"]
    assert len(indicates) == len(patterns) == 14
    assert {r["target_ref"] for r in indicates} == {campaign["id"]}
    assert kinds.count("identity") == 1

    # the chokepoints are the recommended indicators: A's members all leave through AS64502 and nobody else does,
    # so blocking that one ASN covers the campaign without collateral
    plan = chokepoints.plan(CAMPAIGN_A)
    assert [(i["kind"], i["value"], i["accounts"], i["requests"], i["collateral_accounts"]) for i in plan["identifiers"]] \
        == [("asn", "64502", 40, 800, 0)]
    [action] = [o for o in bundle["objects"] if o["type"] == "course-of-action"]
    assert action["name"] == f"Block the chokepoints of {CAMPAIGN_A}"
    assert action["description"] == (f"Recommended indicators for Linkwatch campaign {CAMPAIGN_A}: blocking its 1 "
                                     "chokepoint identifier(s) refuses 100% of its accounts and 100% of its requests "
                                     "(target 95%), with 0 account(s) outside flagged campaigns as collateral (summed over "
                                     "the identifiers).")
    [mitigates] = [r for r in relationships if r["relationship_type"] == "mitigates"]
    [asn] = [o for o in bundle["objects"] if o["type"] == "indicator" and o["pattern"] == "[autonomous-system:number = 64502]"]
    assert (mitigates["source_ref"], mitigates["target_ref"]) == (action["id"], asn["id"])
    assert mitigates["description"] == ("blocks 40 of the campaign's accounts (800 requests); collateral: 0 accounts "
                                        "outside flagged campaigns (0 requests)")
    assert asn["labels"] == ["chokepoint"]
    assert [o["pattern"] for o in bundle["objects"] if "chokepoint" in o.get("labels", [])] == [asn["pattern"]]
    assert action["object_marking_refs"] == mitigates["object_marking_refs"] == campaign["object_marking_refs"]
    # never raw payment values, e-mails, account ids or the residential exits (other people's homes)
    for secret in ("pm_pool", "fp_cot", "@", "op0", "203.0.113."):
        assert secret not in text


# ---- --since --------------------------------------------------------------------------------------------

def test_since_a_run_composes_the_events_in_between(history, tmp_path):
    report = _report(tmp_path / "r", "--since", history["first"], "--format", "json,csv")

    assert report["since_run"]["run_id"] == history["first"] and report["runs_between"] == 1
    assert report["summary"] == {"new": 0, "grown": 1, "merged": 0, "split": 0, "shrunk": 0, "ended": 1, "unchanged": 0}
    changes = {c["campaign_id"]: (c["event"], c["size_before"], c["size"]) for c in report["changes"]}
    assert changes == {CAMPAIGN_A: ("grown", 30, 40), CAMPAIGN_B: ("ended", 20, None)}
    assert report["between"] == []  # the run in between recorded no merge, split or end
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["campaigns.csv", "report.json"]


@pytest.mark.parametrize(("since", "run", "summary"), [
    ("7d", "first", {"grown": 1, "ended": 1}),      # the first run is 10 days old
    ("24h", "second", {"ended": 1, "unchanged": 1}),  # the second 2 days
])
def test_since_a_duration_picks_the_newest_run_old_enough(history, tmp_path, since, run, summary):
    report = _report(tmp_path / "r", "--since", since, "--format", "json")
    assert report["since_run"]["run_id"] == history[run]
    assert {event: n for event, n in report["summary"].items() if n} == summary


def test_default_folder_is_under_the_home(history):
    result = reports.generate(formats=("json",), trigger="schedule")
    try:
        assert result.path == managed_paths().home / "reports" / result.report_id
        assert result.files == ["report.json"] and (result.path / "report.json").is_file()
        assert result.summary["ended"] == 1
        assert reports.get_report(result.report_id)["trigger"] == "schedule"
    finally:
        shutil.rmtree(result.path)


def test_failures_are_recorded(empty_db):
    report_id = reports.record_failure("Neo4j is not reachable at bolt://127.0.0.1:1", trigger="schedule")
    record = reports.get_report(report_id)
    assert (record["status"], record["error"], record["trigger"], record["path"]) == (
        "failed", "Neo4j is not reachable at bolt://127.0.0.1:1", "schedule", None)
    assert [r["report_id"] for r in reports.list_reports(5)] == [report_id]
    assert reports.get_report("rep-missing") is None


# ---- the only run -----------------------------------------------------------------------------------------

def test_the_only_run_reports_everything_as_new_with_ipv6_indicators(empty_db, tmp_path):
    _load(tmp_path / "bundle", [_operators(0, 30), _bots(), _honest()])
    _detect()

    out = tmp_path / "r"
    report = _report(out, "--top", "1")

    assert report["only_run"] is True and report["since_run"] is None
    assert report["summary"] == {"new": 2, "grown": 0, "merged": 0, "split": 0, "shrunk": 0, "ended": 0, "unchanged": 0}
    scores = {r["id"]: r["score"] for r in cypher("MATCH (c:Campaign) RETURN c.campaign_id AS id, c.score AS score")}
    assert scores[CAMPAIGN_A] >= 50 and scores[CAMPAIGN_A] > scores[CAMPAIGN_B]
    assert [t["campaign_id"] for t in report["top"]] == [CAMPAIGN_A]  # --top 1: the higher score
    assert {c["campaign_id"]: c["size"] for c in report["changes"]} == {CAMPAIGN_A: 30, CAMPAIGN_B: 20}
    page = (out / "report.html").read_text()
    assert "Only one detection run so far: every campaign is reported as new." in page
    assert page.count(PNG) == 3

    text = (out / "indicators.stix.json").read_text()
    result = validate_string(text, ValidationOptions(strict=True))
    assert result.is_valid and result.errors == [] and result.warnings == []
    bundle = json.loads(text)
    assert sorted(o["name"] for o in bundle["objects"] if o["type"] == "campaign") == sorted([CAMPAIGN_A, CAMPAIGN_B])
    patterns = {o["pattern"] for o in bundle["objects"] if o["type"] == "indicator"}
    assert {f"[ipv6-addr:value = '2001:db8::{i}']" for i in (1, 2, 3)} <= patterns
    assert "[autonomous-system:number = 64503]" in patterns
    assert "[x-linkwatch-proxy-network:name = 'CloudHop']" in patterns
    assert not any("2001:db8::/32" in p for p in patterns)  # a /32 is a whole provider: not exported
    assert "pm_bot" not in text and "bots.example" not in text


def test_chokepoints_in_stix_keep_private_identifiers_out_and_carry_their_collateral(empty_db):
    """A plan with a corporate NAT (collateral), a device, a residential exit and a hosting address: the exportable
    ones become labelled indicators with ``mitigates`` from the course of action; the others are only counted."""
    from datetime import datetime, timezone

    from graph.reports import stix

    cypher("UNWIND $ips AS ip CREATE (:IP {value: ip.value, proxy_type: ip.type})",
           ips=[{"value": "192.0.2.10", "type": "none"}, {"value": "203.0.113.9", "type": "residential"},
                {"value": "2001:db8::7", "type": "hosting"}])
    cypher("CREATE (:ProxyNetwork {name: \"Peer'Gate\", proxy_type: 'residential'}), "
           "(:ProxyNetwork {name: 'SecretVPN', proxy_type: 'vpn'})")
    items = [("payment", "pm_secret_card", 30, 0), ("ip", "192.0.2.10", 12, 25), ("device", "dev-42", 5, 0),
             ("ip", "203.0.113.9", 4, 0), ("ip", "2001:db8::7", 3, 1), ("proxy_network", "Peer'Gate", 2, 7),
             ("proxy_network", "SecretVPN", 1, 0)]
    plan = {"campaign_id": "cmp-1", "target": 0.95, "covered_accounts": 0.96, "covered_requests": 0.97,
            "identifiers": [{"kind": k, "value": v, "accounts": n, "requests": 10 * n, "collateral_accounts": c,
                             "collateral_requests": 100 * c} for k, v, n, c in items]}
    campaign = {"campaign_id": "cmp-1", "score": 90.0, "evidence": ["e"],
                "accounting": {"first_activity": "2026-04-01T00:00:00Z", "last_activity": "2026-04-02T00:00:00Z"}}
    bundle = stix.build([campaign], [], datetime(2026, 4, 3, tzinfo=timezone.utc), plans={"cmp-1": plan})
    text = bundle.serialize()
    result = validate_string(text, ValidationOptions(strict=True))
    assert result.is_valid and result.errors == [] and result.warnings == []
    objects = json.loads(text)["objects"]
    indicators = {o["id"]: o for o in objects if o["type"] == "indicator"}
    sha = hashlib.sha256(b"pm_secret_card").hexdigest()
    assert sorted(o["pattern"] for o in indicators.values()) == sorted([
        f"[x-linkwatch-payment-method:fingerprint_sha256 = '{sha}']", "[ipv6-addr:value = '2001:db8::7']",
        "[x-linkwatch-proxy-network:name = 'Peer\\'Gate']"])
    assert all(o["labels"] == ["chokepoint"] for o in indicators.values())
    [action] = [o for o in objects if o["type"] == "course-of-action"]
    assert action["description"].endswith(
        "with 33 account(s) outside flagged campaigns as collateral (summed over the identifiers). 4 of them (device, ip, proxy_network) are not "
        "exported: personal or provider-internal identifiers, addresses that are not datacenter or hosting, or VPN "
        "networks.")
    costs = {indicators[r["target_ref"]]["pattern"]: r["description"] for r in objects
             if r["type"] == "relationship" and r["relationship_type"] == "mitigates"}
    assert costs["[ipv6-addr:value = '2001:db8::7']"] == (
        "blocks 3 of the campaign's accounts (30 requests); collateral: 1 accounts outside flagged campaigns (100 requests)")
    assert costs["[x-linkwatch-proxy-network:name = 'Peer\\'Gate']"].endswith("collateral: 7 accounts outside flagged "
                                                                             "campaigns (700 requests)")
    for private in ("pm_secret_card", "dev-42", "192.0.2.10", "203.0.113.9", "SecretVPN"):
        assert private not in text
