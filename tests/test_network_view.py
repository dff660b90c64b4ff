"""The campaign network view's data (app/graphview.hub_network): hubs sized by members, hard and weak kinds drawn
apart, a legend, and an aggregated view that keeps within the node budget."""
from __future__ import annotations

from app.graphview import hub_network


def _members(n):
    return [{"account": f"acct-{i:03d}", "score": 90 - i / 10} for i in range(n)]


def _shared(hub_id, label, value, users):
    return {"id": hub_id, "label": label, "value": value, "proxy_type": None, "users": users}


def test_hubs_are_sized_by_members_and_hard_kinds_look_different():
    members = _members(12)
    ids = [m["account"] for m in members]
    shared = [_shared("1", "PaymentMethod", "pm_<b>", ids[:9]), _shared("2", "IP", "10.0.0.1", ids[:3]),
              _shared("3", "PromptTemplate", "tpl_1", ids[5:12])]
    net = hub_network(members, shared, max_nodes=100, link=lambda label, value: f"/{label}/{value}")
    assert net["aggregated"] is False and net["shown"] == net["total"] == 15
    by_id = {n["id"]: n for n in net["nodes"]}
    card, ip, template = by_id["i:1"], by_id["i:2"], by_id["i:3"]
    assert card["shape"] == "diamond" and card["hard"] is True and card["value_text"] == "pm_<b>"
    assert ip["shape"] == template["shape"] == "dot" and ip["hard"] is False
    assert card["size"] > template["size"] > ip["size"] > by_id["a:acct-000"]["size"]  # sized by members
    assert card["href"] == "/PaymentMethod/pm_<b>" and by_id["a:acct-000"]["href"] == "/Account/acct-000"
    dashed = {e["to"]: e["dashes"] for e in net["edges"]}
    assert dashed["i:1"] is False and dashed["i:2"] is True  # weak identifiers: dashed edges
    assert len(net["edges"]) == 9 + 3 + 7
    legend = [(k["kind"], k["hard"]) for k in net["legend"]]
    assert legend == [("payment method", True), ("IP address", False), ("prompt template", False),
                      ("account", None)]


def test_above_the_budget_members_using_the_same_hubs_become_one_node():
    members = _members(150)
    ids = [m["account"] for m in members]
    shared = [_shared(str(k), "Device", f"dev-{k}", ids[k * 30:(k + 1) * 30]) for k in range(5)]
    shared.append(_shared("ip", "IP", "10.0.0.1", ids))
    net = hub_network(members, shared, max_nodes=40)
    assert net["aggregated"] is True and net["total"] == 156
    assert 0 < net["shown"] == len(net["nodes"]) <= 40
    groups = [n for n in net["nodes"] if n["kind"] == "Group"]
    assert sorted(n["accounts"] for n in groups) == [30] * 5  # each device's 30 users (all on the one IP)
    assert all(n["label"] == "30 accounts" for n in groups)
    assert ("accounts using the same identifiers", None) in [(k["kind"], k["hard"]) for k in net["legend"]]


def test_the_budget_holds_however_many_distinct_groups_there_are():
    members = _members(200)
    ids = [m["account"] for m in members]
    # every member has its own combination of hubs: grouping alone cannot meet the budget
    shared = [_shared(str(k), "Phone", f"+1555{k}", [a for i, a in enumerate(ids) if i >> k & 1]) for k in range(8)]
    net = hub_network(members, shared, max_nodes=30)
    assert net["aggregated"] is True and len(net["nodes"]) <= 30
