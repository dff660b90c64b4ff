"""Loaded text is data: hostile capability labels and org names reach report charts, report HTML and every
CSV export as plain text (no mathtext, no markup, no spreadsheet formula), and a report that fails anyway
is recorded as failed and told in one line — against the real Neo4j, `linkwatch report` and the web app."""
from __future__ import annotations

import base64
import csv
import io
import json

import matplotlib
import pytest
from markupsafe import escape
from hypothesis import given, settings, strategies as st
from matplotlib.figure import Figure

from app import auth, create_app
from app.cli import main
from graph import csv_export, db, reports
from graph.reports import charts, output

from test_reports import _bots, _detect, _honest, _load, _operators
from webtools import PASSWORD, csrf_token, login

MATHTEXT = r"$\undefinedcommand{x}$"
HOSTILE = [MATHTEXT, "$x^2$ and $", r"\textbf{bold}", "<script>alert(1)</script>", "{{ 7*7 }}",
           '=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
           "\tTAB first", "\rCR first", "$$", "&amp; <b>", "%s %d {0}", "_hidden"]
FORMULA = '=HYPERLINK("http://evil.example","click")'
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
pytestmark = pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # arbitrary unicode labels


# ---- charts: every string a chart draws is plain text -----------------------------------------------------

def test_unprotected_matplotlib_would_fail_on_the_label():
    """The payload is a real one: matplotlib's default settings reject it while drawing."""
    figure = Figure()
    figure.add_subplot().set_title(MATHTEXT)
    with pytest.raises(ValueError):
        figure.savefig(io.BytesIO(), format="png")


def _chart_data(names: list[str], capabilities: list[str]) -> dict:
    growth = {n: [{"started_at": "2026-06-01T00:00:00Z", "size": 3}, {"started_at": "2026-06-02T00:00:00Z", "size": 5}]
              for n in names}
    activity = {n: [{"day": "2026-06-01", "requests": 4}, {"day": "2026-06-02", "requests": 9}] for n in names}
    mixes = {n: {c: i + 1 for i, c in enumerate(capabilities)} for n in names}
    return {"growth": growth, "activity": activity, "capabilities": mixes}


hostile_text = st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=24),
                         st.lists(st.sampled_from(["$", "\\", "{", "}", "^", "_", "frac", "x", " ", "%", "<"]),
                                  min_size=1, max_size=10).map("".join))


@settings(max_examples=25, deadline=None)
@given(names=st.lists(hostile_text, min_size=1, max_size=3, unique=True),
       capabilities=st.lists(hostile_text, min_size=1, max_size=8, unique=True))
def test_charts_draw_any_label_as_plain_text(names, capabilities):
    drawn = charts.render(_chart_data(names, capabilities))
    assert set(drawn) == {"growth", "activity", "capabilities"}
    for png in drawn.values():
        assert base64.b64decode(png).startswith(PNG_MAGIC)
    assert matplotlib.rcParams["text.parse_math"] is True  # the plain-text setting does not leak out


# ---- a whole report over a world with hostile labels and orgs ---------------------------------------------

def _hostile(parts):
    """Campaign A's requests carry hostile capability labels and its accounts hostile org names."""
    accounts, links, requests = parts
    for i, row in enumerate(accounts):
        row[3] = HOSTILE[i % len(HOSTILE)] if i % 3 else FORMULA
    for i, row in enumerate(requests):  # the formula is the top capability; every hostile label appears
        row[-1] = FORMULA if i % 2 else HOSTILE[(i // 2) % len(HOSTILE)]
    return accounts, links, requests


@pytest.fixture(scope="module")
def hostile_world(tmp_path_factory, _server_ready):
    db.wipe()
    db.apply_schema()
    _load(tmp_path_factory.mktemp("hostile") / "bundle", [_hostile(_operators(0, 30)), _bots(), _honest()])
    _detect()
    auth.save_user("ana", "analyst", PASSWORD)
    return tmp_path_factory.mktemp("hostile-reports")


def test_a_report_over_hostile_labels_is_written_and_shows_them_as_text(hostile_world, capsys):
    out = hostile_world / "ok"
    assert main(["report", "--out", str(out)]) == 0, capsys.readouterr().err
    page = (out / "report.html").read_text()
    assert page.count('<img src="data:image/png;base64,') == 3
    report = json.loads((out / "report.json").read_text())
    # the labels reached the charts: every hostile label is in campaign A's capability mix
    [mix] = [m for m in report["charts"]["capabilities"].values() if FORMULA in m]
    assert set(HOSTILE) <= set(mix)
    [top] = [c["top_capabilities"] for c in report["changes"] if c["top_capabilities"].startswith(FORMULA)]
    assert f"<td>{escape(top)}</td>" in page and "<script>alert(1)" not in page  # markup is shown, not run
    # campaigns.csv read back: the formula cell carries its leading ', no cell starts like a formula
    with (out / "campaigns.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert "'" + top in [row["top_capabilities"] for row in rows]
    assert not [cell for row in rows for cell in row.values() if cell.startswith(csv_export.FORMULA_START)]


def test_the_campaign_members_csv_neutralises_formula_cells(hostile_world):
    client = create_app({"TESTING": True}).test_client()
    login(client, "ana")
    [campaign] = [c for c in client.get("/api/campaigns").get_json()["campaigns"] if c["size"] == 30]
    response = client.get(f"/campaigns/{campaign['campaign_id']}/members.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    orgs = {row["account_id"]: row["org"] for row in rows}
    assert orgs["op00"] == "'" + FORMULA  # the real value, read back, with its leading '
    expected = {f"op{i:02d}": (HOSTILE[i % len(HOSTILE)] if i % 3 else FORMULA) for i in range(30)}
    assert orgs == {a: ("'" + o if o.startswith(csv_export.FORMULA_START) else o) for a, o in expected.items()}
    assert all(float(row["score"]) >= 0 for row in rows)  # numbers stay numbers


def test_the_csv_rule():
    assert [csv_export.cell(v) for v in ["=1+1", "+1", "-1", "@x", "\tx", "\rx", "a=b", "", None, -1, 2.5, True]] \
        == ["'=1+1", "'+1", "'-1", "'@x", "'\tx", "'\rx", "a=b", "", "", -1, 2.5, "true"]
    handle = io.StringIO()
    csv_export.write_rows(handle, ["a", "b"], [["=cmd", -3]])
    assert list(csv.reader(io.StringIO(handle.getvalue()))) == [["a", "b"], ["'=cmd", "-3"]]


# ---- a report that fails anyway ---------------------------------------------------------------------------

def _failed_reports() -> list[dict]:
    return [r for r in reports.list_reports(100) if r["status"] == "failed"]


def test_a_failing_report_is_recorded_and_told_in_one_line(hostile_world, monkeypatch, capsys):
    def broken(report, drawn):
        raise RuntimeError("template exploded\non two lines")

    monkeypatch.setattr(output, "html", broken)
    before = len(_failed_reports())
    assert main(["report", "--out", str(hostile_world / "cli-failed")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("linkwatch: error: report rep-") and err.rstrip().endswith(
        "failed and was recorded as failed: RuntimeError: template exploded on two lines")
    failed = _failed_reports()
    assert len(failed) == before + 1 and failed[0]["trigger"] == "cli"
    assert failed[0]["error"] == "RuntimeError: template exploded on two lines"

    client = create_app({"TESTING": True}).test_client()
    login(client, "ana")
    token = csrf_token(client, "/reports")
    answer = client.post("/api/reports", headers={"X-CSRFToken": token})
    assert answer.status_code == 422
    body = answer.get_json()
    assert body["error"].startswith(f"report {body['report_id']} failed") and reports.get_report(
        body["report_id"])["status"] == "failed"
    form = client.post("/reports", data={"csrf_token": token})
    assert form.status_code == 302 and form.headers["Location"] == "/reports"
    page = client.get("/reports").get_data(as_text=True)
    assert "failed and was recorded as failed: RuntimeError: template exploded on two lines" in page
    assert len(_failed_reports()) == before + 3
