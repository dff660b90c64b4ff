"""Aggregate raw API requests out of core with DuckDB into what the graph keeps.

Raw requests are never written row by row. From ``valid_requests`` this builds:

* ``account_usage``     one row per account: requests, tokens, active days, hour-of-day
                        profile and its entropy, capability and model mix, first/last request,
                        number of distinct IPs;
* ``account_ips``       the top-k IPs per account by request count (count, first/last seen);
* ``account_networks``  use of each proxy network over *all* the account's IPs, and
  ``account_asns``      use of its top-k ASNs (only when some ip_intel is known);
* ``account_templates`` and ``templates``: who sent which prompt template, and how often;
* ``account_models`` and ``models``: per account and model the requests per active UTC day and the first and
                        last request on it; per model its first request anywhere in the load.

Each output is one GROUP BY over the checked requests or over the (account, ip) pairs.
"""
from __future__ import annotations

import duckdb

from loaders.ipintel import matched_sql
from loaders.templates import build_prompt_templates

ISO = "'%Y-%m-%dT%H:%M:%S.%gZ'"


def iso(column: str) -> str:
    """SQL: a TIMESTAMPTZ as ISO-8601 UTC text with milliseconds, the form Cypher's datetime() reads."""
    return f"strftime({column}, {ISO})"


def _top(k: int, source: str, order: str) -> str:
    """SQL: the ``k`` rows per account of ``source`` that come first by ``order`` (ties broken by the order's last key)."""
    return f"SELECT * FROM {source} QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY {order}) <= {int(k)}"


def aggregate_requests(conn: duckdb.DuckDBPyConnection, top_ips: int, lsh_threshold: float, lsh_max_texts: int,
                       min_template_accounts: int,
                       have_intel: bool) -> None:
    """Create the tables listed in the module docstring from ``valid_requests``."""
    # (account, ip) pairs: with an IP rotated per request this is about one row per request
    conn.execute(
        "CREATE OR REPLACE TABLE account_ip_pairs AS SELECT account_id, ip, count(*) AS n, min(ts) AS first_seen, "
        "max(ts) AS last_seen FROM valid_requests WHERE ip IS NOT NULL GROUP BY account_id, ip")
    conn.execute(
        f"CREATE OR REPLACE TABLE account_ips AS SELECT account_id, ip, n, {iso('first_seen')} AS first_seen, "
        f"{iso('last_seen')} AS last_seen FROM ({_top(top_ips, 'account_ip_pairs', 'n DESC, ip')})")

    conn.execute(
        "CREATE OR REPLACE TABLE hour_counts AS SELECT account_id, hour(ts) AS hour, count(*) AS n, "
        "sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, min(ts) AS first_ts, max(ts) AS last_ts "
        "FROM valid_requests GROUP BY ALL")
    conn.execute(
        "CREATE OR REPLACE TABLE account_mix AS SELECT account_id, kind, list(name ORDER BY n DESC, name) AS names, "
        "list(n ORDER BY n DESC, name) AS counts FROM ("
        "  SELECT account_id, CASE WHEN GROUPING(model) = 0 THEN 'model' ELSE 'capability' END AS kind, "
        "  coalesce(model, capability) AS name, count(*) AS n FROM valid_requests "
        "  GROUP BY GROUPING SETS ((account_id, model), (account_id, capability)) "
        ") WHERE name IS NOT NULL GROUP BY ALL")
    # requests per UTC day: the activity timelines of accounts and campaigns
    conn.execute(
        "CREATE OR REPLACE TABLE account_days AS SELECT account_id, count(*) AS active_days, "
        "list(strftime(day, '%Y-%m-%d') ORDER BY day) AS activity_days, list(n ORDER BY day) AS activity_counts "
        "FROM (SELECT account_id, ts::DATE AS day, count(*) AS n FROM valid_requests GROUP BY ALL) GROUP BY account_id")
    # per (account, model): the day-level timeline and the first/last request; per model its first appearance
    conn.execute(
        "CREATE OR REPLACE TABLE account_model_days AS SELECT account_id, model, ts::DATE AS day, count(*) AS n, "
        "min(ts) AS first_ts, max(ts) AS last_ts FROM valid_requests WHERE model IS NOT NULL GROUP BY ALL")
    conn.execute(
        f"CREATE OR REPLACE TABLE account_models AS SELECT account_id, model, sum(n)::BIGINT AS requests, "
        f"{iso('min(first_ts)')} AS first_seen, {iso('max(last_ts)')} AS last_seen, "
        f"list(strftime(day, '%Y-%m-%d') ORDER BY day) AS days, list(n ORDER BY day)::BIGINT[] AS counts "
        f"FROM account_model_days GROUP BY account_id, model")
    conn.execute(
        f"CREATE OR REPLACE TABLE models AS SELECT model AS name, {iso('min(first_ts)')} AS first_seen "
        f"FROM account_model_days GROUP BY model")
    conn.execute("DROP TABLE account_model_days")
    conn.execute(
        "CREATE OR REPLACE TABLE account_usage AS "
        "WITH totals AS (SELECT account_id, sum(n) AS requests, sum(input_tokens) AS input_tokens, "
        "  sum(output_tokens) AS output_tokens, min(first_ts) AS first_ts, max(last_ts) AS last_ts, "
        "  list(n ORDER BY hour) AS hour_n, list(hour ORDER BY hour) AS hours, "
        "  -sum((n / t) * log2(n / t)) AS hour_entropy "
        "  FROM (SELECT *, sum(n) OVER (PARTITION BY account_id) AS t FROM hour_counts) GROUP BY account_id), "
        "ips AS (SELECT account_id, count(*) AS distinct_ips FROM account_ip_pairs GROUP BY account_id) "
        "SELECT t.account_id, t.requests::BIGINT AS requests, t.input_tokens::BIGINT AS input_tokens, "
        "  t.output_tokens::BIGINT AS output_tokens, d.active_days, d.activity_days, "
        "  d.activity_counts::BIGINT[] AS activity_counts, "
        "  list_transform(range(24), lambda h: coalesce(t.hour_n[list_position(t.hours, h)], 0))::BIGINT[] AS hour_profile, "
        "  abs(round(t.hour_entropy, 6)) AS hour_entropy, "
        f" {iso('t.first_ts')} AS first_request, {iso('t.last_ts')} AS last_request, "
        "  coalesce(i.distinct_ips, 0) AS distinct_ips, "
        "  m.names AS models, m.counts AS model_counts, c.names AS capabilities, c.counts AS capability_counts "
        "FROM totals t JOIN account_days d USING (account_id) LEFT JOIN ips i USING (account_id) "
        "LEFT JOIN account_mix m ON m.account_id = t.account_id AND m.kind = 'model' "
        "LEFT JOIN account_mix c ON c.account_id = t.account_id AND c.kind = 'capability'")

    build_prompt_templates(conn, lsh_threshold, lsh_max_texts)
    conn.execute(
        f"CREATE OR REPLACE TABLE account_templates AS SELECT account_id, template_id, count(*) AS n, "
        f"{iso('min(ts)')} AS first_seen, {iso('max(ts)')} AS last_seen FROM ("
        f"  SELECT r.account_id, r.ts, coalesce(r.prompt_fingerprint, p.template_id) AS template_id "
        f"  FROM valid_requests r LEFT JOIN prompt_templates p ON r.prompt_fingerprint IS NULL AND p.prompt_hash = r.prompt_hash"
        f") WHERE template_id IS NOT NULL GROUP BY ALL")
    conn.execute(
        "CREATE OR REPLACE TABLE templates AS SELECT template_id, sum(n)::BIGINT AS requests, count(*) AS accounts, "
        "any_value(s.sample) AS sample FROM account_templates LEFT JOIN template_samples s USING (template_id) "
        "GROUP BY template_id HAVING count(*) >= $min_accounts", {"min_accounts": min_template_accounts})
    # a template only one account sent links nobody: most free-text prompts; not writing them keeps loads fast
    conn.execute("DELETE FROM account_templates WHERE template_id NOT IN (SELECT template_id FROM templates)")

    if have_intel:
        # every pair (not only the top-k IPs) counts towards network and ASN usage: one ASOF join, two groupings
        conn.execute(
            "CREATE OR REPLACE TABLE pair_usage AS SELECT account_id, proxy_network, asn, sum(n)::BIGINT AS n, "
            "count(*) AS distinct_ips, min(first_seen) AS first_seen, max(last_seen) AS last_seen "
            f"FROM ({matched_sql(conn, 'SELECT account_id, ip, n, first_seen, last_seen FROM account_ip_pairs')}) "
            "GROUP BY GROUPING SETS ((account_id, proxy_network), (account_id, asn))")
        conn.execute(
            f"CREATE OR REPLACE TABLE account_networks AS SELECT account_id, proxy_network, n, distinct_ips, "
            f"{iso('first_seen')} AS first_seen, {iso('last_seen')} AS last_seen FROM pair_usage "
            f"WHERE proxy_network IS NOT NULL")
        conn.execute(
            f"CREATE OR REPLACE TABLE account_asns AS SELECT account_id, asn, n, distinct_ips, "
            f"{iso('first_seen')} AS first_seen, {iso('last_seen')} AS last_seen "
            f"FROM ({_top(top_ips, '(SELECT * FROM pair_usage WHERE asn IS NOT NULL)', 'n DESC, asn')})")
