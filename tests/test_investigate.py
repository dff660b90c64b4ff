"""Account, identifier and search pages with their JSON twins, against the real Neo4j."""
from __future__ import annotations

import pytest

from app import auth, create_app

from webtools import PASSWORD, login


@pytest.fixture
def client(empty_db):
    empty_db.execute_query(
        """
        CREATE (a1:Account {account_id: 'acct-1', org: 'Acme Corp', email: 'ann@acme.example', requests: 1200,
                            hour_profile: [0,0,0,0,0,0,0,0,50,100,120,130,100,90,110,120,100,80,60,40,0,0,0,0],
                            created_at: datetime('2026-04-22T10:00:00Z')}),
               (a2:Account {account_id: 'acct-2', org: 'Acme Corp', requests: 30}),
               (a3:Account {account_id: 'acct-3', requests: 5}),
               (card:PaymentMethod {value: 'pm_shared'}),
               (ip:IP {value: '100.64.1.7', proxy_type: 'residential', proxy_network: 'pool-9'}),
               (ip2:IP {value: '100.64.2.1'}),
               (net:ProxyNetwork {name: 'pool-9', proxy_type: 'residential'}),
               (a1)-[:HAS_IDENTIFIER {kind: 'payment', count: 3}]->(card),
               (a2)-[:HAS_IDENTIFIER {kind: 'payment', count: 1}]->(card),
               (a3)-[:HAS_IDENTIFIER {kind: 'payment', count: 1}]->(card),
               (a1)-[:USED_IP {count: 40, first_seen: datetime('2026-04-22T10:05:00Z'), last_seen: datetime('2026-05-01T00:00:00Z')}]->(ip),
               (a3)-[:USED_IP {count: 2}]->(ip2),
               (a1)-[:USED_NETWORK {count: 40, distinct_ips: 1}]->(net),
               (a1)-[:LINKED {kind: 'payment', weight: 0.5, strong: 1.0}]->(a2)
        """
    )
    auth.save_user("vera", "viewer", PASSWORD)
    client = create_app({"TESTING": True}).test_client()
    login(client, "vera")
    return client


def test_account_page_shows_identifiers_with_share_counts_and_why_linked(client):
    data = client.get("/api/accounts/acct-1").get_json()
    assert data["account"]["org"] == "Acme Corp"
    by_value = {i["value"]: i for i in data["identifiers"]}
    assert by_value["pm_shared"]["accounts_sharing"] == 3 and by_value["pm_shared"]["kind"] == "payment"
    assert by_value["100.64.1.7"]["proxy_type"] == "residential"
    assert by_value["pool-9"]["kind"] == "proxy_network"
    assert data["linked"] == [{"account": "acct-2", "org": "Acme Corp", "weight": 0.5, "why": ["payment"], "strong": True,
                               "relations": []}]
    assert [q["name"] for q in data["cypher"]] == ["ui/account", "ui/account_identifiers", "ui/account_linked",
                                                  "ui/account_campaigns"]
    assert data["case"] == {"case": None, "notes": [], "history": []}
    page = client.get("/accounts/acct-1").get_data(as_text=True)
    assert 'href="/identifiers/payment/pm_shared"' in page
    assert "Show the Cypher" in page and "cypher/ui/account_identifiers.cypher" in page
    assert page.count('<span title=') == 24  # hour-of-day bars


def test_identifier_pivot_lists_every_account(client):
    data = client.get("/api/identifiers/payment/pm_shared").get_json()
    assert sorted(a["account"] for a in data["accounts"]) == ["acct-1", "acct-2", "acct-3"]
    network = client.get("/api/identifiers/proxy_network/pool-9").get_json()
    assert [a["account"] for a in network["accounts"]] == ["acct-1"] and network["node"]["proxy_type"] == "residential"
    assert client.get("/identifiers/payment/pm_unknown").status_code == 404


def test_search_by_id_email_org_ip_and_cidr(client):
    one = client.get("/search?q=acct-2")
    assert one.status_code == 302 and one.headers["Location"] == "/accounts/acct-2"
    assert client.get("/search?q=ANN@acme.example").headers["Location"] == "/accounts/acct-1"
    org = client.get("/api/search?q=acme").get_json()["results"]
    assert sorted(r["value"] for r in org) == ["acct-1", "acct-2"]
    cidr = client.get("/api/search?q=100.64.0.0/16").get_json()["results"]
    assert sorted(r["value"] for r in cidr) == ["100.64.1.7", "100.64.2.1"]
    narrow = client.get("/api/search?q=100.64.2.0/24").get_json()["results"]
    assert [r["value"] for r in narrow] == ["100.64.2.1"]
    assert client.get("/api/search?q=nothing-like-this").get_json()["results"] == []


def test_pages_need_login(empty_db):
    anonymous = create_app({"TESTING": True}).test_client()
    assert anonymous.get("/accounts/acct-1").status_code == 302
    assert anonymous.get("/api/accounts/acct-1").status_code == 401
