"""Refinement does not cut one operator apart along the prompts only it sends (docs/detection.md, section 2).

A hydra that bought part of its accounts from a reseller has two card and device pools: its own accounts on
one, the fronts on another. What ties the two is the template family both send — light next to either pool's
weight, so the refinement's Leiden cuts there and the smaller piece (loosely attached: conductance well below
``refine_max_conductance``) used to leave as a small cluster of its own that scoring could not flag. A family
that nobody outside the group sends is the operator's signature: its senders stay one piece.
"""
from __future__ import annotations

import pytest

from graph import db
from graph.detect import communities, linkage
from graph.detect.params import CommunityParams

OPERATORS = [f"op{i}" for i in range(6)]
FRONTS = [f"front{i:02d}" for i in range(12)]
HOUSEHOLDS = [[f"hh{h}_{j}" for j in range(3)] for h in range(2)]
HYDRA = frozenset(OPERATORS + FRONTS)


def cypher(query: str, **params):
    return db.driver().execute_query(query, params).records


def _hydra_world(outsider_sends_the_family: bool = False) -> None:
    """The hydra (6 operator accounts on one card, device and phone; 12 fronts on another card and device; all
    18 send the template family `hydra_cot`), two households of 3 (own card each) whose home address one operator
    account also used now and then, and a background of 150 companies of 10 (shared card and device) that gives
    the graph the size at which whole-graph modularity merges loosely tied groups (its resolution limit)."""
    cypher("""
      UNWIND range(0, 149) AS c
      UNWIND range(0, 9) AS j
      CREATE (a:Account {account_id: 'co' + right('00' + c, 3) + '_' + j, requests: 200})
      MERGE (card:PaymentMethod {value: 'pm_co_' + c})
      MERGE (device:Device {value: 'dev_co_' + c})
      CREATE (a)-[:HAS_IDENTIFIER {kind: 'payment'}]->(card), (a)-[:HAS_IDENTIFIER {kind: 'device'}]->(device)
    """)
    cypher("""
      UNWIND $pools AS pool
      UNWIND pool.accounts AS id
      CREATE (a:Account {account_id: id, requests: 1000})
      MERGE (card:PaymentMethod {value: 'pm_' + pool.name})
      MERGE (device:Device {value: 'dev_' + pool.name})
      MERGE (phone:Phone {value: 'ph_' + pool.name})
      MERGE (tpl:PromptTemplate {template_id: 'hydra_cot'})
      CREATE (a)-[:HAS_IDENTIFIER {kind: 'payment'}]->(card), (a)-[:HAS_IDENTIFIER {kind: 'device'}]->(device),
             (a)-[:HAS_IDENTIFIER {kind: 'phone'}]->(phone), (a)-[:SENT {n: 600}]->(tpl)
    """, pools=[{"name": "operator", "accounts": OPERATORS}, {"name": "fronts", "accounts": FRONTS}])
    cypher("""
      UNWIND range(0, size($households) - 1) AS h
      UNWIND $households[h] AS id
      CREATE (a:Account {account_id: id, requests: 100})
      MERGE (card:PaymentMethod {value: 'pm_hh_' + h})
      MERGE (home:IP {value: '203.0.113.' + h, proxy_type: 'none'})
      CREATE (a)-[:HAS_IDENTIFIER {kind: 'payment'}]->(card), (a)-[:USED_IP {count: 100}]->(home)
      WITH h, home
      MATCH (op:Account {account_id: $operators[h]})
      MERGE (op)-[:USED_IP {count: 50}]->(home)
    """, households=HOUSEHOLDS, operators=OPERATORS)
    if outsider_sends_the_family:  # one honest company member also puts a third of its traffic on the family
        cypher("MATCH (a:Account {account_id: 'co000_0'}), (t:PromptTemplate {template_id: 'hydra_cot'}) "
               "CREATE (a)-[:SENT {n: 70}]->(t)")


def _group_of(partition: communities.Partition, account: str) -> frozenset:
    label = partition.communities[account]
    return frozenset(a for a, x in partition.communities.items() if x == label)


def test_separate_keeps_tied_pieces_together_and_lets_the_rest_go():
    ops, fronts, household = ["o1", "o2", "o3"], ["f1", "f2", "f3", "f4"], ["h1", "h2"]
    clique = lambda names, w: [(x, y, w) for i, x in enumerate(names) for y in names[i + 1:]]  # noqa: E731
    edges = (clique(ops, 3.0) + clique(fronts, 3.0) + clique(household, 3.0)
             + [("o1", "f1", 0.2), ("o2", "f2", 0.2), ("o3", "h1", 0.1)])  # prompts; a shared home address
    parts = [ops, fronts, household]

    # no tie: both the operator's accounts and the household are loosely attached and leave
    assert communities.separate(ops + fronts + household, edges, parts, 0.15) == [fronts, ops, household]
    # the family only the operator's accounts and fronts send makes them one piece; the household still leaves
    tied = communities.separate(ops + fronts + household, edges, parts, 0.15, ties=[["o1", "f1", "f2"]])
    assert tied == [sorted(fronts + ops), household]
    # a tie that reaches the household holds it too (a tie is a fact about the accounts, not a weight)
    assert communities.separate(ops + fronts + household, edges, parts, 0.15,
                                ties=[ops + fronts, ["o3", "h2"]]) == [sorted(ops + fronts + household)]


def test_template_links_name_their_family_and_ties_are_families_nobody_outside_sends(empty_db):
    _hydra_world()
    linkage.build()
    kinds = {r["kind"]: r["families"] for r in cypher(
        "MATCH ()-[l:LINKED]->() RETURN l.kind AS kind, collect(DISTINCT l.family) AS families")}
    assert kinds["template"] == ["hydra_cot"]
    assert all(families == [] for kind, families in kinds.items() if kind != "template")

    groups = [sorted(HYDRA | set(HOUSEHOLDS[0])), ["co000_0", "co000_1"]]
    assert communities.group_ties(groups) == [[sorted(HYDRA)], []]
    # a group holding only part of the senders is tied by nothing: the family leaves it
    assert communities.group_ties([OPERATORS]) == [[]]


@pytest.mark.parametrize("engine", communities.ENGINES)
def test_refinement_keeps_an_operator_and_its_fronts_together(empty_db, engine):
    _hydra_world()
    linkage.build()

    unrefined = communities.detect(engine, CommunityParams(refine_min_size=10**9))
    refined = communities.detect(engine)

    # whole-graph modularity puts the hydra and the households it touched in one community large enough to refine
    assert _group_of(unrefined, "op0") >= HYDRA | set(HOUSEHOLDS[0]) | set(HOUSEHOLDS[1])
    # refinement lets the households go and keeps the operator's accounts with its fronts
    assert _group_of(refined, "op0") == HYDRA
    assert all(_group_of(refined, h[0]) == frozenset(h) for h in HOUSEHOLDS)
    assert db.gds().graph.list() == []


@pytest.mark.parametrize("engine", communities.ENGINES)
def test_a_family_sent_outside_the_group_does_not_tie(empty_db, engine):
    # the same hydra, but an account outside its community sends the family too: it is no longer the group's
    # own signature, and the loosely attached operator piece leaves as before
    _hydra_world(outsider_sends_the_family=True)
    linkage.build()

    refined = communities.detect(engine)

    assert _group_of(refined, "op0") != HYDRA and _group_of(refined, "op0") < HYDRA | set(HOUSEHOLDS[0])
    assert _group_of(refined, "front00") == frozenset(FRONTS)
