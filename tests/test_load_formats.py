"""MaxMind GeoLite2 ASN, IP2Proxy, the Tor exit list, mapped exports; template clustering and network flattening."""
from __future__ import annotations

import csv
from pathlib import Path

from graph import db
from loaders.ipintel import flatten
from loaders.pipeline import LoadOptions, load
from loaders.templates import cluster, normalise_sql

EXAMPLE_MAPPING = Path(__file__).parent.parent / "docs" / "examples" / "payments-mapping.toml"

MAXMIND = (
    "network,autonomous_system_number,autonomous_system_organization\n"
    "1.0.0.0/24,13335,CLOUDFLARENET\n"
    '1.0.4.0/22,38803,"Wirefreebroadband Pty Ltd"\n'
    '2001:db8::/32,64496,"Documentation v6"\n'
)
# PX2 layout: ip_from, ip_to, proxy_type, country_code, country_name (no header, every field quoted)
IP2PROXY_PX2 = (
    '"16777216","16777471","DCH","AU","Australia"\n'  # 1.0.0.0/24
    '"167772160","167772162","VPN","US","United States of America"\n'  # 10.0.0.0/31 + 10.0.0.2/32
    '"281473913979136","281473913979391","PUB","JP","Japan"\n'  # IPv4-mapped 192.168.1.0/24
    '"42540766411282592856903984951653826560","42540766411282592856903984951653826815","TOR","DE","Germany"\n'
    '"5","3","VPN","US","United States of America"\n'
)
# PX11 layout: ... usage_type, asn, as, last_seen, threat, provider
IP2PROXY_PX11 = (
    '"3232235520","3232235775","VPN","US","United States of America","California","Los Angeles","Example ISP",'
    '"example.net","DCH","64510","Example AS","12","-","ShadowVPN"\n'
)
TOR = "# Tor bulk exit list\n1.2.3.4\n5.6.7.8   # still an exit\n\nnot-an-ip\n2001:db8::5\n"


def options(tmp_path: Path, **overrides) -> LoadOptions:
    return LoadOptions(rejects_path=tmp_path / "rejects.csv", progress=False, **overrides)


def networks() -> dict[str, dict]:
    records, _, _ = db.driver().execute_query("MATCH (n:IPNetwork) RETURN n")
    return {r["n"]["cidr"]: {k: v for k, v in r["n"].items() if k != "cidr"} for r in records}


def rejects(tmp_path: Path) -> list[tuple[str, str, str]]:
    with (tmp_path / "rejects.csv").open(newline="") as handle:
        return [(r["line"], r["column"], r["reason"]) for r in csv.DictReader(handle)]


def test_intel_sources_merge_and_requests_match_them(empty_db, tmp_path):
    (tmp_path / "GeoLite2-ASN-Blocks.csv").write_text(MAXMIND)
    (tmp_path / "px2.csv").write_text(IP2PROXY_PX2)
    (tmp_path / "px11.csv").write_text(IP2PROXY_PX11)
    (tmp_path / "exits.txt").write_text(TOR)

    assert not load([tmp_path / "GeoLite2-ASN-Blocks.csv"], options(tmp_path, fmt="maxmind-asn")).log.any
    assert networks()["1.0.4.0/22"] == {"asn": 38803, "as_org": "Wirefreebroadband Pty Ltd"}
    records, _, _ = db.driver().execute_query("MATCH (a:ASN) RETURN a.asn AS asn, a.name AS name ORDER BY asn")
    assert [tuple(r.values()) for r in records] == [(13335, "CLOUDFLARENET"), (38803, "Wirefreebroadband Pty Ltd"),
                                                    (64496, "Documentation v6")]

    summary = load([tmp_path / "px2.csv", tmp_path / "px11.csv"], options(tmp_path, fmt="ip2proxy"))
    assert rejects(tmp_path) == [("5", "", "bad IP range: ip_from 5 is above ip_to 3")]
    assert summary.rows_loaded == {"ip_intel": 6}
    found = networks()
    # the MaxMind ASN stays when IP2Proxy (PX2: no ASN column) describes the same block
    assert found["1.0.0.0/24"] == {"asn": 13335, "as_org": "CLOUDFLARENET", "proxy_type": "datacenter",
                                   "feed_type": "DCH", "country": "AU", "country_name": "Australia"}
    us = {"country": "US", "country_name": "United States of America"}
    assert found["10.0.0.0/31"] == found["10.0.0.2/32"] == {"proxy_type": "vpn", "feed_type": "VPN", **us}
    assert found["192.168.1.0/24"] == {"proxy_type": "public_proxy", "feed_type": "PUB", "country": "JP",
                                       "country_name": "Japan"}
    assert found["2001:db8::/120"] == {"proxy_type": "tor", "feed_type": "TOR", "country": "DE",
                                       "country_name": "Germany"}
    assert found["192.168.0.0/24"] == {"asn": 64510, "as_org": "Example AS", "proxy_type": "vpn", "feed_type": "VPN",
                                       "proxy_network": "ShadowVPN", "provider": "ShadowVPN", **us,
                                       "region": "California", "city": "Los Angeles", "isp": "Example ISP",
                                       "domain": "example.net", "usage_type": "DCH", "last_seen_days": 12}

    load([tmp_path / "exits.txt"], options(tmp_path, fmt="tor-exits"))
    assert rejects(tmp_path) == [("5", "network", "bad CIDR 'not-an-ip'")]
    found = networks()
    assert found["1.2.3.4/32"] == found["5.6.7.8/32"] == found["2001:db8::5/128"] == {
        "proxy_type": "tor", "proxy_network": "tor", "feed_type": "TOR"}
    assert len(found) == 11  # 3 MaxMind + 5 new IP2Proxy blocks (1.0.0.0/24 is shared) + 3 Tor exits

    (tmp_path / "requests.csv").write_text(
        "ts,account_id,ip\n"
        "2026-05-01T00:00:00Z,r1,1.0.0.7\n"
        "2026-05-01T01:00:00Z,r1,192.168.0.9\n"
        "2026-05-01T02:00:00Z,r1,192.168.0.10\n"
        "2026-05-01T03:00:00Z,r2,2001:db8::7\n"
        "2026-05-01T04:00:00Z,r2,2001:db8::1:0\n"
        "2026-05-01T05:00:00Z,r2,8.8.8.8\n")
    load([tmp_path / "requests.csv"], options(tmp_path))
    records, _, _ = db.driver().execute_query(
        "MATCH (ip:IP) RETURN ip.value AS ip, ip.network AS network, ip.asn AS asn, ip.proxy_type AS type, "
        "ip.proxy_network AS provider ORDER BY ip")
    assert [tuple(r.values()) for r in records] == [
        ("1.0.0.7", "1.0.0.0/24", 13335, "datacenter", None),
        ("192.168.0.10", "192.168.0.0/24", 64510, "vpn", "ShadowVPN"),
        ("192.168.0.9", "192.168.0.0/24", 64510, "vpn", "ShadowVPN"),
        ("2001:db8::1:0", "2001:db8::/32", 64496, None, None),  # outside the nested Tor /120
        ("2001:db8::7", "2001:db8::/120", 64496, "tor", None),  # Tor block inside the MaxMind /32: both apply
        ("8.8.8.8", None, None, None, None),
    ]
    records, _, _ = db.driver().execute_query(
        "MATCH (a:Account)-[r:USED_NETWORK]->(p:ProxyNetwork) RETURN a.account_id AS a, p.name AS p, r.count AS n, "
        "r.distinct_ips AS ips")
    assert [tuple(r.values()) for r in records] == [("r1", "ShadowVPN", 2, 2)]
    records, _, _ = db.driver().execute_query(
        "MATCH (a:Account)-[r:USED_ASN]->(s:ASN) RETURN a.account_id AS a, s.asn AS asn, r.count AS n ORDER BY a, asn")
    assert [tuple(r.values()) for r in records] == [("r1", 13335, 1), ("r1", 64510, 2), ("r2", 64496, 2)]


def test_mapping_loads_an_arbitrary_export(empty_db, tmp_path):
    export = tmp_path / "billing.csv"
    export.write_text("user_id,card_id,date\nu1,pm_aa,2026-04-01\nu2,pm_aa,2026-04-03\nu3,pm_bb,2026-04-05\n")
    summary = load([export], options(tmp_path, mapping=EXAMPLE_MAPPING))
    assert not summary.log.any and summary.rows_loaded == {"links": 3}
    records, _, _ = db.driver().execute_query(
        "MATCH (a:Account)-[r:HAS_IDENTIFIER {kind: 'payment'}]->(p:PaymentMethod) "
        "RETURN p.value AS card, collect(a.account_id) AS accounts, min(r.first_seen) AS first ORDER BY card")
    assert [(r["card"], sorted(r["accounts"]), r["first"].to_native().isoformat()) for r in records] == [
        ("pm_aa", ["u1", "u2"], "2026-04-01T00:00:00+00:00"), ("pm_bb", ["u3"], "2026-04-05T00:00:00+00:00")]


def test_near_duplicate_prompts_share_a_template():
    texts = [
        "you are a grader. score the answer below from <n> to <n> and explain each step of your reasoning in detail",
        "you are a grader. score the answer below from <n> to <n> and explain each step of your reasoning in full",
        "translate the following paragraph into french and keep the tone formal and polite throughout the text",
    ]
    ids = cluster(texts, threshold=0.7)
    assert ids[texts[0]] == ids[texts[1]] != ids[texts[2]]
    assert cluster(texts, threshold=0.7) == ids  # same input, same ids


def test_prompt_normalisation_masks_slots():
    import duckdb

    sql = normalise_sql("p")
    rows = duckdb.sql(f"SELECT {sql} FROM (VALUES ('Convert  \"Hello\" to 12.5 EUR on 2026-04-01'), "
                      f"('Say ''hi'' 3 times')) t(p)").fetchall()
    assert [r[0] for r in rows] == ["convert <q> to <n> eur on <n>", "say <q> <n> times"]


def test_flatten_takes_each_attribute_from_the_most_specific_network():
    segments = flatten([
        {"network": "10.0.0.0/8", "asn": 1, "as_org": "big", "proxy_type": None, "proxy_network": None},
        {"network": "10.1.0.0/16", "asn": None, "as_org": None, "proxy_type": "vpn", "proxy_network": "V"},
        {"network": "10.1.2.0/24", "asn": 2, "as_org": "small", "proxy_type": None, "proxy_network": None},
    ])
    base = 0xFFFF_0000_0000
    ip = lambda a, b, c, d: base + (a << 24) + (b << 16) + (c << 8) + d  # noqa: E731
    assert segments == [
        (ip(10, 0, 0, 0), ip(10, 0, 255, 255), "10.0.0.0/8", 1, "big", None, None),
        (ip(10, 1, 0, 0), ip(10, 1, 1, 255), "10.1.0.0/16", 1, "big", "vpn", "V"),
        (ip(10, 1, 2, 0), ip(10, 1, 2, 255), "10.1.2.0/24", 2, "small", "vpn", "V"),
        (ip(10, 1, 3, 0), ip(10, 1, 255, 255), "10.1.0.0/16", 1, "big", "vpn", "V"),
        (ip(10, 2, 0, 0), ip(10, 255, 255, 255), "10.0.0.0/8", 1, "big", None, None),
    ]
