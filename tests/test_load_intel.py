"""IP intelligence as the publishers ship it (fixtures in tests/data/intel follow each published layout):
every IP2Proxy proxy type, PX2 and PX11 and the IPv6 file together, Tor's exit-addresses and bulk list,
GeoLite2 ASN and City/Country; several feeds at once or one after another give the same graph."""
from __future__ import annotations

from pathlib import Path

from graph import db
from loaders.pipeline import LoadOptions, load
from test_load import snapshot

INTEL = Path(__file__).parent / "data" / "intel"
PX11, PX2, PX11_V6 = INTEL / "IP2PROXY-LITE-PX11.CSV", INTEL / "IP2PROXY-LITE-PX2.CSV", INTEL / "IP2PROXY-LITE-PX11.IPV6.CSV"
ASN = [INTEL / "GeoLite2-ASN-Blocks-IPv4.csv", INTEL / "GeoLite2-ASN-Blocks-IPv6.csv"]
CITY = [INTEL / "GeoLite2-City-Blocks-IPv4.csv", INTEL / "GeoLite2-City-Blocks-IPv6.csv", INTEL / "GeoLite2-City-Locations-en.csv"]
COUNTRY = [INTEL / "GeoLite2-Country-Blocks-IPv4.csv", INTEL / "GeoLite2-Country-Locations-en.csv"]
TOR = [INTEL / "exit-addresses", INTEL / "torbulkexitlist"]


def options(tmp_path: Path, **overrides) -> LoadOptions:
    return LoadOptions(rejects_path=tmp_path / "rejects.csv", progress=False, **overrides)


def network(cidr: str) -> dict:
    records, _, _ = db.driver().execute_query("MATCH (n:IPNetwork {cidr: $cidr}) RETURN n", cidr=cidr)
    assert len(records) == 1, cidr
    return dict(records[0]["n"])


def test_every_ip2proxy_type_loads_and_px2_px11_ipv6_complement_each_other(empty_db, tmp_path):
    summary = load([PX11, PX2, PX11_V6], options(tmp_path, fmt="ip2proxy"))
    assert not summary.log.any, summary.lines()
    assert summary.log.warnings == []  # PX2 only complements PX11; the IPv6 file's mapped rows are the same networks
    assert summary.rows_read == {"ip_intel": 18 + 18 + 7}  # each range here is exactly one CIDR
    records, _, _ = db.driver().execute_query(
        "MATCH (n:IPNetwork) RETURN n.feed_type AS code, collect(DISTINCT n.proxy_type) AS types ORDER BY code")
    assert {r["code"]: r["types"] for r in records} == {
        "AIC": ["ai_crawler"], "CPN": ["vpn"], "DCH": ["datacenter"], "EPN": ["none"], "PUB": ["public_proxy"],
        "RES": ["residential"], "SES": ["search_engine"], "TOR": ["tor"], "VPN": ["vpn"], "WEB": ["web_proxy"]}
    # IPv4-mapped ranges of the IPv6 file are their IPv4 twins: one node each, not two
    assert network("104.28.0.0/24")["country"] == "US"
    assert db.driver().execute_query("MATCH (n:IPNetwork) WHERE n.cidr STARTS WITH '::ffff' RETURN count(n) AS n").records[0]["n"] == 0
    # every PX11 column is kept; '-' is missing; quoted fields with commas and quotes are read whole
    assert network("5.8.17.0/25") == {
        "cidr": "5.8.17.0/25", "proxy_type": "vpn", "feed_type": "VPN", "country": "NL",
        "country_name": "Netherlands (Kingdom of the)", "region": "Noord-Holland", "city": "Amsterdam",
        "isp": "Tunnel B.V.", "domain": "tunnel.example", "usage_type": "DCH", "asn": 64502, "as_org": "Tunnel, B.V.",
        "last_seen_days": 2, "threat": "BOTNET", "provider": "TunnelVPN", "proxy_network": "TunnelVPN"}
    assert network("185.220.101.0/24")["isp"] == 'Relay "Foundation" e.V.'
    assert network("192.0.2.0/24") == {"cidr": "192.0.2.0/24", "proxy_type": "vpn", "feed_type": "VPN"}
    # EPN is honest corporate egress: proxy_type none (like a corporate NAT) and no proxy network to link through
    epn = network("136.226.0.0/24")
    assert (epn["proxy_type"], epn["provider"], epn.get("proxy_network")) == ("none", "ZeroTrust Gateway", None)
    assert network("2001:db8:30::/120")["proxy_type"] == "none"
    # CPN is a consumer relay: a VPN-like proxy network shared by many honest users
    cpn = network("2001:db8:20::/64")
    assert (cpn["proxy_type"], cpn["proxy_network"]) == ("vpn", "Phone Private Relay")
    records, _, _ = db.driver().execute_query("MATCH (p:ProxyNetwork) RETURN p.name AS name, p.proxy_type AS type ORDER BY name")
    assert [tuple(r.values()) for r in records] == [
        ("Phone Private Relay", "vpn"), ("PoolRes", "residential"), ("TunnelVPN", "vpn"), ("WebUnblock", "web_proxy")]


def test_epn_addresses_take_the_corporate_nat_path_in_the_graph(empty_db, tmp_path):
    """An address inside an EPN range is an ordinary address (proxy_type none, no EXIT_OF edge), as a corporate
    NAT is; one inside a CPN range is a VPN exit of its relay network."""
    load([PX11], options(tmp_path, fmt="ip2proxy"))
    (tmp_path / "requests.csv").write_text("ts,account_id,ip\n2026-05-01T00:00:00Z,e1,136.226.0.9\n"
                                           "2026-05-01T00:01:00Z,e2,136.226.0.9\n2026-05-01T00:02:00Z,c1,104.28.1.20\n")
    load([tmp_path / "requests.csv"], options(tmp_path))
    records, _, _ = db.driver().execute_query(
        "MATCH (ip:IP) RETURN ip.value AS ip, ip.proxy_type AS type, [(ip)-[:EXIT_OF]->(p) | p.name] AS exits ORDER BY ip")
    assert [tuple(r.values()) for r in records] == [
        ("104.28.1.20", "vpn", ["Phone Private Relay"]), ("136.226.0.9", "none", [])]
    records, _, _ = db.driver().execute_query("MATCH (a:Account)-[:USED_NETWORK]->(p) RETURN a.account_id AS a, p.name AS p")
    assert [tuple(r.values()) for r in records] == [("c1", "Phone Private Relay")]


def test_tor_exit_addresses_and_bulk_list(empty_db, tmp_path):
    summary = load(TOR, options(tmp_path, fmt="tor-exits"))
    assert not summary.log.any, summary.lines()
    assert summary.rows_read == {"ip_intel": 7 + 5}
    records, _, _ = db.driver().execute_query(
        "MATCH (n:IPNetwork) RETURN n.cidr AS cidr, n.proxy_type AS type, n.proxy_network AS net, "
        "toString(n.last_seen) AS seen ORDER BY cidr")
    assert [tuple(r.values()) for r in records] == [
        # the latest ExitAddress time of an address listed under several relays; the bulk list adds no time
        ("185.220.101.7/32", "tor", "tor", "2026-11-30T10:31:02Z"),
        ("185.220.101.8/32", "tor", "tor", "2026-11-30T09:55:10Z"),
        ("2001:db8:40::1/128", "tor", "tor", "2026-11-30T10:31:02Z"),
        ("23.128.248.10/32", "tor", "tor", "2026-11-30T11:08:31Z"),
        ("23.128.248.11/32", "tor", "tor", "2026-11-28T22:14:55Z"),
    ]
    # a later list with an older time does not move last_seen back
    (tmp_path / "older").write_text("ExitAddress 23.128.248.10 2026-01-01 00:00:00\n")
    load([tmp_path / "older"], options(tmp_path, fmt="tor-exits"))
    assert network("23.128.248.10/32")["last_seen"].to_native().isoformat() == "2026-11-30T11:08:31+00:00"


def test_geolite2_asn_city_and_country(empty_db, tmp_path):
    assert not load(ASN, options(tmp_path, fmt="maxmind-asn")).log.any
    summary = load(CITY + COUNTRY, options(tmp_path, fmt="maxmind-geo"))
    assert not summary.log.any, summary.lines()
    assert summary.rows_read == {"ip_intel": 5 + 1 + 2}
    assert network("5.8.16.0/23") == {"cidr": "5.8.16.0/23", "asn": 64502, "as_org": "Tunnel, B.V.", "country": "NL",
                                      "country_name": "The Netherlands", "region": "North Holland", "city": "Amsterdam",
                                      "postal_code": "1012", "latitude": 52.3759, "longitude": 4.8975}
    # a block without geoname_id takes the registered country
    assert (network("136.226.0.0/16")["country"], network("136.226.0.0/16").get("city")) == ("US", None)
    assert network("2001:db8:10::/48")["city"] == "Stockholm"
    assert network("31.13.64.0/18")["country"] == "IE" and network("198.51.100.0/24")["country_name"] == "Singapore"


def test_feeds_together_or_one_after_another_give_the_same_graph(empty_db, tmp_path):
    def graph_after(loads: list[tuple[str, list[Path]]]) -> tuple:
        db.wipe()
        db.apply_schema()
        for fmt, files in loads:
            assert not load(files, options(tmp_path, fmt=fmt)).log.any
        return snapshot()

    locations = INTEL / "GeoLite2-City-Locations-en.csv"
    together = graph_after([("ip2proxy", [PX11, PX2, PX11_V6]), ("maxmind-asn", ASN), ("maxmind-geo", CITY),
                            ("tor-exits", TOR)])
    one_by_one = graph_after([("ip2proxy", [PX11]), ("ip2proxy", [PX2]), ("ip2proxy", [PX11_V6]),
                              ("maxmind-asn", ASN[:1]), ("maxmind-asn", ASN[1:]),
                              ("maxmind-geo", [CITY[0], locations]), ("maxmind-geo", [CITY[1], locations]),
                              ("tor-exits", TOR[:1]), ("tor-exits", TOR[1:])])
    assert one_by_one == together
    # feeds that only complement each other can come in any order (GeoLite2 City stays last: its country names
    # differ from IP2Proxy's, a real conflict where the later load wins)
    reordered = graph_after([("tor-exits", TOR[::-1]), ("maxmind-asn", ASN[::-1]), ("ip2proxy", [PX11_V6, PX2, PX11]),
                             ("maxmind-geo", CITY)])
    assert set(reordered[0]) ^ set(together[0]) == set() and reordered[1] == together[1]


def test_a_real_conflict_between_feeds_is_a_counted_warning(empty_db, tmp_path):
    """PX11 and GeoLite2 City name the country of 81.2.69.0/24 differently: the later file wins, with a warning."""
    (tmp_path / "a.csv").write_text('"1359103232","1359103487","RES","GB","United Kingdom","-","-","-","-","-","-"'
                                    ',"-","-","-","-"\r\n')
    (tmp_path / "b.csv").write_text('"1359103232","1359103487","RES","GB","Britain","-","-","-","-","-","-"'
                                    ',"-","-","-","-"\r\n')
    summary = load([tmp_path / "a.csv", tmp_path / "b.csv"], options(tmp_path, fmt="ip2proxy"))
    assert not summary.log.any
    assert summary.log.warnings == [
        "ip_intel.country_name: 1 key with different values, the later file (then line) wins (--prefer): "
        "network='81.2.69.0/24': 'United Kingdom' (a.csv:1) vs 'Britain' (b.csv:1), kept 'Britain'"]
    assert network("81.2.69.0/24")["country_name"] == "Britain"
    load([tmp_path / "a.csv", tmp_path / "b.csv"], options(tmp_path, fmt="ip2proxy", prefer="first"))
    assert network("81.2.69.0/24")["country_name"] == "United Kingdom"


def test_an_unknown_future_proxy_type_loads_with_a_warning(empty_db, tmp_path):
    (tmp_path / "px2.csv").write_text('"16777216","16777471","XYZ","AU","Australia"\n'
                                      '"16777472","16777727","EPN","AU","Australia"\n')
    summary = load([tmp_path / "px2.csv"], options(tmp_path, fmt="ip2proxy"))
    assert not summary.log.any
    assert summary.log.warnings == [f"{tmp_path / 'px2.csv'}: IP2Proxy proxy type(s) XYZ (1 rows) are not known to "
                                    "Linkwatch: kept as feed_type, without a proxy_type"]
    assert network("1.0.0.0/24") == {"cidr": "1.0.0.0/24", "feed_type": "XYZ", "country": "AU", "country_name": "Australia"}
    assert network("1.0.1.0/24")["proxy_type"] == "none"
