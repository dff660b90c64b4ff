"""The investigation query library: every playbook is a valid read-only query, and user queries round-trip."""
from __future__ import annotations

import io

import pytest

from app import auth, create_app
from graph import console, cypherlex, queries

from webtools import PASSWORD, bearer


def test_library_has_at_least_15_playbooks_with_headers():
    found = queries.library()
    assert len(found) >= 15
    for query in found:
        assert query.title and query.description and query.tags, query.id
        assert len({q.id for q in found}) == len(found)


@pytest.mark.parametrize("query", queries.library(), ids=lambda q: q.id)
def test_every_playbook_is_read_only_and_plans_on_the_server(empty_db, query):
    console.screen(query.query)
    with empty_db.session() as session:
        summary = session.run("EXPLAIN " + query.query, query.params).consume()
    console._check_plan(summary)
    # and every $parameter it uses has a default in the header
    used = {t.text[1:] for t in cypherlex.tokens(query.query) if t.kind == cypherlex.PARAMETER}
    assert used <= set(query.params), f"{query.id}: no default for {used - set(query.params)}"


@pytest.fixture
def shared_card_graph(empty_db):
    empty_db.execute_query(
        """
        CREATE (a1:Account {account_id: 'a1', org: 'Acme', requests: 1000}),
               (a2:Account {account_id: 'a2', requests: 900}),
               (a3:Account {account_id: 'a3', requests: 50}),
               (a4:Account {account_id: 'a4', requests: 10}),
               (card:PaymentMethod {value: 'pm_1'}), (other:PaymentMethod {value: 'pm_2'}),
               (t:PromptTemplate {template_id: 't1', sample: 'Explain step by step: …'}),
               (a1)-[:HAS_IDENTIFIER {kind: 'payment'}]->(card), (a2)-[:HAS_IDENTIFIER {kind: 'payment'}]->(card),
               (a3)-[:HAS_IDENTIFIER {kind: 'payment'}]->(card), (a4)-[:HAS_IDENTIFIER {kind: 'payment'}]->(other),
               (a1)-[:SENT {n: 950}]->(t), (a2)-[:SENT {n: 300}]->(t), (a3)-[:SENT {n: 50}]->(t)
        """
    )
    return empty_db


def _run(query_id, **params):
    query = next(q for q in queries.library() if q.id == query_id)
    return console.run_readonly(query.query, {**query.params, **params})


def test_shared_payment_playbook_finds_the_card_ring(shared_card_graph):
    result = _run("shared-payment-method", account="a1")
    assert result.rows == [[row[0], row[1], row[2], ["pm_1"]] for row in result.rows]
    assert [row[0] for row in result.rows] == ["a2", "a3"]


def test_shared_template_playbook_uses_share_senders_and_volume(shared_card_graph):
    result = _run("shared-template-traffic", min_share=0.6, min_senders=3, min_requests=100)
    assert [(row[0], row[4]) for row in result.rows] == [("a1", 0.95)]
    # a2 sends the same template, but only a third of its traffic; a3 is below the volume floor
    assert _run("shared-template-traffic", min_share=0.3, min_senders=3, min_requests=100).rows[1][0] == "a2"


def test_shortest_path_playbook(shared_card_graph):
    result = _run("shortest-linkage-path", account="a1", other="a3")
    assert result.columns == ["p", "hops"] and result.rows[0][1] == 2


def test_header_errors_name_the_file_and_line():
    with pytest.raises(queries.QueryFileError, match=r"x.cypher, line 2: default of \$n is not JSON"):
        queries.parse("// title: T\n// param: n = not-json\nRETURN $n", "x", "x.cypher")
    with pytest.raises(queries.QueryFileError, match="x.cypher: the first line must be `// title: …`"):
        queries.parse("RETURN 1", "x", "x.cypher")


@pytest.fixture
def api(empty_db):
    app = create_app({"TESTING": True})
    auth.save_user("ana", "analyst", PASSWORD)
    auth.save_user("bob", "analyst", PASSWORD)
    return app.test_client(), bearer("ana"), bearer("bob")


def test_save_search_export_import_delete(api):
    client, ana, bob = api
    created = client.post("/api/queries", headers=ana, json={
        "title": "Accounts of my org", "query": "MATCH (a:Account {org: $org}) RETURN a.account_id",
        "params": {"org": "Acme"}, "tags": ["Org", "mine"]})
    assert created.status_code == 201
    saved = created.get_json()
    assert saved["owner"] == "ana" and saved["tags"] == ["org", "mine"]
    titles = [q["title"] for q in client.get("/api/queries?q=my+org", headers=ana).get_json()["queries"]]
    assert titles == ["Accounts of my org"]
    assert client.get("/api/queries?q=my+org", headers=bob).get_json()["queries"] == []
    by_tag = client.get("/api/queries?tag=payment", headers=ana).get_json()["queries"]
    assert by_tag and all("payment" in q["tags"] for q in by_tag)

    exported = client.get(f"/api/queries/{saved['id']}.cypher", headers=ana)
    text = exported.get_data(as_text=True)
    assert text.startswith("// title: Accounts of my org\n// param: org = \"Acme\"\n// tags: org, mine\n")

    imported = client.post("/api/queries/import", headers=bob,
                           data={"file": (io.BytesIO(text.encode()), "from-ana.cypher")})
    assert imported.status_code == 201
    copy = imported.get_json()
    assert (copy["owner"], copy["title"], copy["params"]) == ("bob", "Accounts of my org", {"org": "Acme"})

    assert client.delete(f"/api/queries/{saved['id']}", headers=bob).status_code == 404
    assert client.delete(f"/api/queries/{saved['id']}", headers=ana).status_code == 204
    assert client.get("/api/queries?q=my+org", headers=ana).get_json()["queries"] == []
    # the search words are checked like every other query-string text: too long is a 400 that says so
    too_long = client.get("/api/queries", headers=ana, query_string={"q": "x" * 100_000})
    assert too_long.status_code == 400 and "q holds at most" in too_long.get_data(as_text=True)
    assert client.get("/api/queries", headers=ana, query_string={"tag": "<b>%00"}).get_json()["queries"] == []


def test_write_queries_cannot_be_saved_or_imported(api):
    client, ana, _ = api
    refused = client.post("/api/queries", headers=ana, json={"title": "wipe", "query": "MATCH (n) DETACH DELETE n"})
    assert refused.status_code == 403
    bad_file = client.post("/api/queries/import", headers=ana,
                           data={"file": (io.BytesIO(b"// title: wipe\nMATCH (n) DELETE n\n"), "wipe.cypher")})
    assert bad_file.status_code == 403 and "wipe.cypher" in bad_file.get_json()["error"]
    not_text = client.post("/api/queries/import", headers=ana,
                           data={"file": (io.BytesIO(b"\xff\xfe\x00"), "bin.cypher")})
    assert not_text.status_code == 400 and not_text.get_json()["error"] == "bin.cypher: not UTF-8 text"
