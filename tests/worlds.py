"""Populations for test worlds. Detection calibrates its scores on the clusters of the graph it scores, so a test
world needs honest clusters around its operators, as real data has."""
from __future__ import annotations

HONEST_CAPABILITIES = ["chat", "coding", "writing", "summarization", "analysis", "reasoning"]
HONEST_COUNTS = [30, 25, 15, 12, 12, 6]


def add_households(run, count: int = 40) -> None:
    """``count`` households of 3-5 accounts (ids hhNNN_J) with their own card and home address, opened over a year,
    varied volumes, hours and usage; every fourth also shares a tablet, every fifth uses a consumer VPN, every
    third sends some requests through a popular product template. ``run(query, **params)`` runs Cypher."""
    run("""
      UNWIND range(0, $count - 1) AS h
      UNWIND range(0, 2 + h % 3) AS j
      CREATE (a:Account {account_id: 'hh' + right('00' + h, 3) + '_' + j,
                         requests: 20 + ((h * 7 + j * 13) % 11) * 15,
                         created_at: datetime('2025-01-01T00:00:00Z') + duration({days: (h * 37 + j * 71) % 400}),
                         hour_profile: [x IN range(0, 23) | CASE WHEN (x + h + 2 * j) % 24 < 6 + (h + j) % 9
                                                                THEN 2 + (x * (j + 1) + h) % 5 ELSE (x + j) % 2 END],
                         capabilities: $honest_caps,
                         capability_counts: [c IN $honest_counts | c + (h * (j + 3)) % 11]})
      MERGE (card:PaymentMethod {value: 'pm_hh_' + h})
      MERGE (home:IP {value: '100.64.' + h + '.1', proxy_type: CASE WHEN h % 5 = 0 THEN 'vpn' ELSE 'none' END})
      CREATE (a)-[:HAS_IDENTIFIER {kind: 'payment'}]->(card), (a)-[:USED_IP {count: a.requests}]->(home)
      FOREACH (_ IN CASE WHEN h % 4 = 0 THEN [1] ELSE [] END |
        MERGE (tablet:Device {value: 'dev_hh_' + h}) CREATE (a)-[:HAS_IDENTIFIER {kind: 'device'}]->(tablet))
      FOREACH (_ IN CASE WHEN (h + j) % 3 = 0 THEN [1] ELSE [] END |
        MERGE (tpl:PromptTemplate {template_id: 'product_summarise'}) CREATE (a)-[:SENT {n: a.requests / 10}]->(tpl))
    """, honest_caps=HONEST_CAPABILITIES, honest_counts=HONEST_COUNTS, count=count)


def add_ring(run, prefix: str, n: int, start: str, capabilities: list[str], counts: list[int]) -> None:
    """A referral ring: ``n`` accounts (ids <prefix>NN) on two devices, created two minutes apart from ``start``
    through a referral chain, busy in the day, all sending one template (<prefix>_tpl)."""
    run("""
      UNWIND range(0, $n - 1) AS i
      CREATE (a:Account {account_id: $prefix + right('0' + i, 2), requests: 200 + (i % 5) * 3,
                         created_at: datetime($start) + duration({minutes: 2 * i}),
                         hour_profile: [h IN range(0, 23) | CASE WHEN h >= 9 AND h < 21 THEN 10 + (h + i) % 4 ELSE 1 END],
                         capabilities: $caps, capability_counts: $counts})
      MERGE (device:Device {value: 'dev_' + $prefix + '_' + (i % 2)})
      CREATE (a)-[:HAS_IDENTIFIER {kind: 'device'}]->(device)
      MERGE (tpl:PromptTemplate {template_id: $prefix + '_tpl'})
      CREATE (a)-[:SENT {n: 180}]->(tpl)
      WITH a ORDER BY a.account_id
      WITH collect(a) AS ring
      UNWIND range(0, size(ring) - 2) AS i
      WITH ring[i] AS a, ring[i + 1] AS b
      CREATE (a)-[:RELATED {kind: 'referred'}]->(b)
    """, prefix=prefix, n=n, start=start, caps=capabilities, counts=counts)
