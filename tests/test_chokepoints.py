"""Chokepoints on a constructed graph with exactly known answers: cards beat a corporate NAT whose collateral
(the company's own staff) is shown, the target decides how far the cover goes, and every output path (API,
CLI CSV/JSON, campaign page) carries the same identifiers."""
from __future__ import annotations

import csv
import io
import json

import pytest

from app import auth, create_app
from app.act_cli import csv_cell
from app.cli import main
from graph import db
from graph.act import chokepoints
from graph.errors import LinkwatchError

from webtools import PASSWORD, bearer

HOSTILE_CARD = "=HYPERLINK(\"http://x\",\"y\")"


def _campaign(cid, flagged=True, size=10):
    return {"campaign_id": cid, "score": 90.0 if flagged else 30.0, "flagged": flagged, "size": size,
            "evidence": ["shared cards"], "contributions": "{}", "accounting": "{}", "requests": 1000,
            "first_activity": "2026-04-22T00:00:00Z", "last_activity": "2026-06-05T00:00:00Z",
            "event": "new", "related": []}


@pytest.fixture
def world(empty_db):
    """Campaign cmp-op: m1..m10 (100 requests each). Card pm_a: m1..m6; card HOSTILE_CARD: m7..m9; m10 shares no
    identifier with anyone but the office NAT 203.0.113.7, which every member and 30 honest employees (50
    requests each) use, plus x1 of another flagged campaign (an operator, not collateral). ASN 64500 carries m1..m3
    and 5 honest accounts."""
    empty_db.execute_query("UNWIND range(1, 10) AS i CREATE (:Account {account_id: 'm' + i, requests: 100})")
    empty_db.execute_query("UNWIND range(1, 30) AS i CREATE (:Account {account_id: 'h' + i, requests: 50, org: 'Acme'})")
    empty_db.execute_query(
        "CREATE (:Account {account_id: 'x1', requests: 7}), (:PaymentMethod {value: 'pm_a'}),"
        " (:PaymentMethod {value: $hostile}), (:IP {value: '203.0.113.7', proxy_type: 'none'}),"
        " (:ASN {asn: 64500, name: 'Example'})", hostile=HOSTILE_CARD)
    empty_db.execute_query(
        "MATCH (pa:PaymentMethod {value: 'pm_a'}), (pb:PaymentMethod {value: $hostile}), (ip:IP {value: '203.0.113.7'}),"
        " (asn:ASN {asn: 64500})"
        " MATCH (a:Account) WHERE a.account_id STARTS WITH 'm' OR a.account_id STARTS WITH 'h' OR a.account_id = 'x1'"
        " WITH pa, pb, ip, asn, a, toInteger(substring(a.account_id, 1)) AS n, left(a.account_id, 1) AS p"
        " FOREACH (_ IN CASE WHEN p = 'm' AND n <= 6 THEN [1] ELSE [] END |"
        "   CREATE (a)-[:HAS_IDENTIFIER {kind: 'payment'}]->(pa))"
        " FOREACH (_ IN CASE WHEN p = 'm' AND 7 <= n <= 9 THEN [1] ELSE [] END |"
        "   CREATE (a)-[:HAS_IDENTIFIER {kind: 'payment'}]->(pb))"
        " CREATE (a)-[:USED_IP {count: 10}]->(ip)"
        " FOREACH (_ IN CASE WHEN (p = 'm' AND n <= 3) OR (p = 'h' AND n <= 5) THEN [1] ELSE [] END |"
        "   CREATE (a)-[:USED_ASN {count: 5}]->(asn))",
        hostile=HOSTILE_CARD)
    db.run("detect/save_run", run_id="run-1", started_at="2026-06-06T00:00:00Z", engine="gds", accounts=41,
           linkage_edges=1, evidence_since=None, flagged_campaigns=2, parameters="{}",
           campaigns=[_campaign("cmp-op"), _campaign("cmp-other", size=1)])
    db.run("detect/add_members", rows=[{"campaign_id": "cmp-op", "account_id": f"m{i}"} for i in range(1, 11)]
           + [{"campaign_id": "cmp-other", "account_id": "x1"}])
    return empty_db


def _picked(result):
    return [(i["kind"], i["value"], i["accounts"], i["requests"], i["collateral_accounts"], i["collateral_requests"])
            for i in result["identifiers"]]


def test_cards_beat_the_corporate_nat_which_is_taken_only_when_nothing_else_reaches_the_target(world):
    # 90 %: the two cards hold 9 of 10 members and their requests; the NAT would cover all ten at once,
    # but it would also refuse 30 employees, so it is not worth it
    result = chokepoints.plan("cmp-op", 0.9)
    assert _picked(result) == [("payment", "pm_a", 6, 600, 0, 0), ("payment", HOSTILE_CARD, 3, 300, 0, 0)]
    assert (result["covered_accounts"], result["covered_requests"], result["target"]) == (0.9, 0.9, 0.9)

    # 95 % needs m10, whom only the NAT reaches: taken last, with its collateral shown (x1 of another flagged
    # campaign is not collateral); once the NAT is blocked the cards add nothing, and pruning drops them
    result = chokepoints.plan("cmp-op", 0.95)
    assert _picked(result) == [("ip", "203.0.113.7", 10, 1000, 30, 1500)]
    assert (result["covered_accounts"], result["covered_requests"]) == (1.0, 1.0)

    # a low target: the larger card alone
    assert _picked(chokepoints.plan("cmp-op", 0.5)) == [("payment", "pm_a", 6, 600, 0, 0)]


def test_greedy_pruning_and_unreachable_targets_on_plain_data():
    members = {f"m{i}": 10 for i in range(4)}
    candidates = [
        {"kind": "ip", "value": "nat", "users": ["m0", "m1", "m2", "m3"], "collateral_accounts": 40,
         "collateral_requests": 900},
        {"kind": "device", "value": "d1", "users": ["m0", "m1"], "collateral_accounts": 0, "collateral_requests": 0},
        {"kind": "device", "value": "d2", "users": ["m1", "m2"], "collateral_accounts": 0, "collateral_requests": 0},
        {"kind": "device", "value": "d3", "users": ["m2", "m3"], "collateral_accounts": 0, "collateral_requests": 0},
        {"kind": "phone", "value": "stranger", "users": ["not-a-member"], "collateral_accounts": 0,
         "collateral_requests": 0},
    ]
    # greedy takes d1 (ties go to the smaller value), then d3; d2 is never needed
    result = chokepoints.cover(members, candidates, 1.0)
    assert [i["value"] for i in result["identifiers"]] == ["d1", "d3"]
    # without the devices only the NAT remains
    result = chokepoints.cover(members, candidates[:1], 1.0)
    assert [(i["value"], i["collateral_accounts"]) for i in result["identifiers"]] == [("nat", 40)]
    # a member nobody shares anything with: the target is out of reach, the cover says how far it got
    result = chokepoints.cover({**members, "lonely": 60}, candidates[1:], 0.95)
    assert (result["covered_accounts"], result["covered_requests"]) == (0.8, 0.4)
    assert chokepoints.cover({}, [], 0.95) == {"target": 0.95, "covered_accounts": 0.0, "covered_requests": 0.0,
                                               "identifiers": []}


@pytest.mark.parametrize("raw", ["0", "-0.5", "1.01", "nan", "abc", "", "1e999"])
def test_bad_targets_are_refused_with_a_message(raw):
    with pytest.raises(LinkwatchError, match="target must be a share"):
        chokepoints.parse_target(raw)


@pytest.mark.parametrize("value", ["=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_that_a_spreadsheet_would_evaluate_are_quoted(value):
    assert csv_cell(value) == "'" + value
    assert csv_cell("pm_" + value) == "pm_" + value


def test_cli_writes_formula_safe_csv_and_json(world, capsys):
    assert main(["chokepoints", "cmp-op", "--target", "0.9"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows == [["kind", "value", "accounts", "requests", "collateral_accounts", "collateral_requests"],
                    ["payment", "pm_a", "6", "600", "0", "0"], ["payment", "'" + HOSTILE_CARD, "3", "300", "0", "0"]]
    assert main(["chokepoints", "cmp-op", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["target"] == 0.95 and [i["value"] for i in result["identifiers"]] == ["203.0.113.7"]
    assert main(["chokepoints", "cmp-nothing"]) == 2
    assert "no campaign 'cmp-nothing'" in capsys.readouterr().err
    assert main(["chokepoints", "cmp-op", "--target", "2"]) == 2
    assert "target must be a share" in capsys.readouterr().err


def test_api_and_campaign_page(world):
    auth.save_user("vera", "viewer", PASSWORD)
    client = create_app({"TESTING": True}).test_client()
    headers = bearer("vera")
    body = client.get("/api/campaigns/cmp-op/chokepoints?target=0.9", headers=headers).get_json()
    assert set(body) == {"target", "covered_accounts", "covered_requests", "identifiers", "campaign_id"}
    assert [(i["kind"], i["value"]) for i in body["identifiers"]] == [("payment", "pm_a"), ("payment", HOSTILE_CARD)]
    assert client.get("/api/campaigns/cmp-op/chokepoints?target=x", headers=headers).status_code == 400
    assert client.get("/api/campaigns/cmp-none/chokepoints", headers=headers).status_code == 404
    csv_text = client.get("/campaigns/cmp-op/chokepoints.csv?target=0.9", headers=headers).get_data(as_text=True)
    assert "'=HYPERLINK" in csv_text and "pm_a,6,600,0,0" in csv_text

    campaign = client.get("/api/campaigns/cmp-op", headers=headers).get_json()
    assert [i["value"] for i in campaign["chokepoints"]["identifiers"]] == ["203.0.113.7"]
    from webtools import login
    login(client, "vera")
    page = client.get("/campaigns/cmp-op").get_data(as_text=True)
    assert "Chokepoints: what to block" in page and "<td>203.0.113.7</td>" in page and ">30</td>" in page
