"""Match IP addresses to ip_intel networks (longest prefix wins) inside DuckDB.

Networks are flattened in one 128-bit key space (an IPv4 address is keyed as its
IPv4-mapped IPv6 address); lookups then use a sorted ASOF join, on 64-bit numbers for
IPv4 (the bulk of the traffic) and on 128-bit numbers for IPv6. CIDR blocks are either nested or
disjoint; they are flattened in Python into disjoint segments where each attribute comes
from the most specific network that has it (a MaxMind block gives the ASN, a nested
IP2Proxy block the proxy type), and every address then falls into at most one segment.
"""
from __future__ import annotations

import ipaddress

import duckdb
import pyarrow as pa

V4_MAPPED_BASE = 0xFFFF_0000_0000
SEGMENT_COLUMNS = ("network", "asn", "as_org", "proxy_type", "proxy_network")


def _bounds(cidr: str) -> tuple[int, int]:
    network = ipaddress.ip_network(cidr)
    base = V4_MAPPED_BASE if network.version == 4 else 0
    return base + int(network.network_address), base + int(network.broadcast_address)


def address_key(ip: str) -> int:
    address = ipaddress.ip_address(ip)
    return (V4_MAPPED_BASE if address.version == 4 else 0) + int(address)


def ipv4_number_sql(column: str) -> str:
    """SQL: a canonical dotted IPv4 string as its 32-bit number (per row in SQL, not in Python)."""
    return f"list_reduce(list_transform(string_split({column}, '.'), lambda x: x::UBIGINT), lambda a, b: a * 256 + b)"


def flatten(networks: list[dict]) -> list[tuple]:
    """Disjoint (start, end, network, asn, as_org, proxy_type, proxy_network) segments."""
    ordered = sorted(((*_bounds(n["network"]), n) for n in networks), key=lambda t: (t[0], -t[1]))
    segments: list[tuple] = []
    stack: list[tuple[int, int, dict]] = []
    cursor = 0

    def emit(upto: int) -> None:
        nonlocal cursor
        if stack and cursor <= upto:
            innermost = stack[-1][2]
            with_asn = next((n for _, _, n in reversed(stack) if n.get("asn") is not None), {})
            with_proxy = next((n for _, _, n in reversed(stack) if n.get("proxy_type") is not None), {})
            segments.append((cursor, upto, innermost["network"], with_asn.get("asn"), with_asn.get("as_org"),
                             with_proxy.get("proxy_type"), with_proxy.get("proxy_network")))
        cursor = upto + 1

    for start, end, network in ordered:
        while stack and stack[-1][1] < start:
            emit(stack[-1][1])
            stack.pop()
        emit(start - 1)
        stack.append((start, end, network))
    while stack:
        emit(stack[-1][1])
        stack.pop()
    return segments


def build_segments(conn: duckdb.DuckDBPyConnection, networks: list[dict]) -> int:
    """Create ``ip_segments4`` (32-bit keys) and ``ip_segments6`` (128-bit keys) from network dicts
    (keys: SEGMENT_COLUMNS); returns the segment count. IPv4 lookups, the bulk, stay in 64-bit integers."""
    segments = flatten(networks)
    low, high = V4_MAPPED_BASE, V4_MAPPED_BASE + 2**32 - 1
    ipv4 = [(max(start, low) - low, min(end, high) - low, *rest) for start, end, *rest in segments
            if start <= high and end >= low]
    _store_segments(conn, "ip_segments4", ipv4, "UBIGINT")
    _store_segments(conn, "ip_segments6", segments, "UHUGEINT")
    return len(segments)


def _store_segments(conn: duckdb.DuckDBPyConnection, name: str, segments: list[tuple], key_type: str) -> None:
    columns = list(zip(*segments)) if segments else [[] for _ in range(7)]
    arrow = pa.table({
        "start": pa.array([str(v) for v in columns[0]], pa.string()),
        "end": pa.array([str(v) for v in columns[1]], pa.string()),
        "network": pa.array(columns[2], pa.string()),
        "asn": pa.array(columns[3], pa.int64()),
        "as_org": pa.array(columns[4], pa.string()),
        "proxy_type": pa.array(columns[5], pa.string()),
        "proxy_network": pa.array(columns[6], pa.string()),
    })
    conn.register("segments_arrow", arrow)
    conn.execute(f'CREATE OR REPLACE TABLE {name} AS SELECT start::{key_type} AS start, "end"::{key_type} AS "end", '
                 f"network, asn, as_org, proxy_type, proxy_network FROM segments_arrow ORDER BY start")
    conn.unregister("segments_arrow")


def matched_sql(conn: duckdb.DuckDBPyConnection, source: str) -> str:
    """SQL adding the intel columns (SEGMENT_COLUMNS) to the rows of ``source`` (a query with a canonical
    ``ip`` column) whose address falls in a known network; rows outside every network are left out."""
    ipv6 = [row[0] for row in conn.execute(f"SELECT DISTINCT ip FROM ({source}) WHERE contains(ip, ':')").fetchall()]
    conn.register("ipv6_arrow", pa.table({"ip": pa.array(ipv6, pa.string()),
                                          "key": pa.array([str(address_key(ip)) for ip in ipv6], pa.string())}))
    conn.execute("CREATE OR REPLACE TABLE ipv6_keys AS SELECT ip, key::UHUGEINT AS key FROM ipv6_arrow")
    conn.unregister("ipv6_arrow")
    intel = ", ".join(f"s.{c}" for c in SEGMENT_COLUMNS)
    return (
        f"SELECT src.* EXCLUDE (_key), {intel} FROM "
        f"(SELECT *, {ipv4_number_sql('ip')} AS _key FROM ({source}) WHERE NOT contains(ip, ':')) src "
        f'ASOF JOIN ip_segments4 s ON src._key >= s.start WHERE src._key <= s."end" '
        f"UNION ALL "
        f"SELECT src.* EXCLUDE (_key), {intel} FROM "
        f"(SELECT x.*, k.key AS _key FROM ({source}) x JOIN ipv6_keys k USING (ip)) src "
        f'ASOF JOIN ip_segments6 s ON src._key >= s.start WHERE src._key <= s."end"'
    )
