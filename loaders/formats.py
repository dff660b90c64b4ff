"""Inputs that are not bundle tables: public IP intelligence files and mapped exports.

Each is turned into rows of a bundle table (``ip_intel`` for the IP lists), so the same
validation and writing apply to every source.
"""
from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

from graph.errors import LinkwatchError
from loaders.spec import TABLES
from loaders.tables import Source, csv_rows, file_format, physical_lines

# --format values besides the default ``bundle``.
EXTERNAL_FORMATS = ("maxmind-asn", "ip2proxy", "tor-exits")

MAXMIND_COLUMNS = {
    "network": "network",
    "autonomous_system_number": "asn",
    "autonomous_system_organization": "as_org",
}

IP2PROXY_TYPES = {
    "VPN": "vpn",
    "TOR": "tor",
    "DCH": "datacenter",
    "RES": "residential",
    "PUB": "public_proxy",
    "WEB": "web_proxy",
    "SES": "search_engine",
}

# Column layouts of IP2Proxy LITE/commercial CSVs by field count (PX9 and PX10 share one layout).
_PX_BASE = ["ip_from", "ip_to", "proxy_type", "country_code", "country_name"]
_PX_MORE = ["region", "city", "isp", "domain", "usage_type", "asn", "as", "last_seen", "threat", "provider", "fraud_score"]
IP2PROXY_LAYOUTS = {len(_PX_BASE) + n: _PX_BASE + _PX_MORE[:n] for n in (0, 2, 3, 4, 5, 7, 8, 9, 10, 11)}

IPV4_MAPPED = ipaddress.ip_network("::ffff:0:0/96")


def external_sources(paths: list[Path], fmt: str) -> list[Source]:
    """Sources for --format maxmind-asn | ip2proxy | tor-exits: every file becomes ip_intel rows."""
    files = []
    for path in paths:
        if not path.exists():
            raise LinkwatchError(f"{path}: no such file or folder")
        files.extend(sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path])
    rename = MAXMIND_COLUMNS if fmt == "maxmind-asn" else {}
    return [Source("ip_intel", f, fmt, rename=rename) for f in files]


def mapped_sources(paths: list[Path], mapping_path: Path) -> list[Source]:
    """Sources for --mapping: any CSV/JSONL/Parquet export renamed into one bundle table."""
    table, rename, constants = read_mapping(mapping_path)
    sources = []
    for path in paths:
        files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
        for file in files:
            found = file_format(file)
            if found is None:
                raise LinkwatchError(f"{file}: unknown file type (expected .csv, .csv.gz, .jsonl or .parquet)")
            sources.append(Source(table, file, found[1], rename=rename, constants=constants))
    return sources


def read_mapping(path: Path) -> tuple[str, dict[str, str], dict[str, str]]:
    """(table, {input column: bundle column}, {bundle column: constant}) from a mapping TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LinkwatchError(f"{path}: mapping file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise LinkwatchError(f"{path}: not a valid TOML mapping: {exc}") from None
    unknown_keys = set(data) - {"table", "columns", "constants"}
    if unknown_keys:
        raise LinkwatchError(f"{path}: unknown mapping key(s) {', '.join(sorted(unknown_keys))} (expected table, columns, constants)")
    table = data.get("table")
    if table not in TABLES:
        raise LinkwatchError(f"{path}: `table` must be one of {', '.join(TABLES)} (got {table!r})")
    rename = data.get("columns", {})
    constants = data.get("constants", {})
    if not isinstance(rename, dict) or not isinstance(constants, dict):
        raise LinkwatchError(f"{path}: [columns] and [constants] must be tables of names")
    known = set(TABLES[table].column_names)
    for target in [*rename.values(), *constants]:
        if target not in known:
            raise LinkwatchError(f"{path}: {target!r} is not a column of {table} ({', '.join(TABLES[table].column_names)})")
    return table, {str(k): str(v) for k, v in rename.items()}, {str(k): str(v) for k, v in constants.items()}


def ip2proxy_records(path: Path, on_bad_line) -> Iterator[tuple[int, dict[str, str] | str]]:
    """ip_intel rows from an IP2Proxy CSV (no header, quoted): each IP range becomes its CIDRs."""
    layout: list[str] | None = None
    for line, record in csv_rows(path, on_bad_line):
        if layout is None:
            layout = IP2PROXY_LAYOUTS.get(len(record))
            if layout is None:
                yield line, (f"{len(record)} fields is not an IP2Proxy PX2-PX12 layout "
                             f"(expected {', '.join(map(str, sorted(IP2PROXY_LAYOUTS)))})")
                return
        if len(record) != len(layout):
            yield line, f"expected {len(layout)} fields, found {len(record)}"
            continue
        row = dict(zip(layout, (None if v in ("-", "") else v for v in record)))
        try:
            networks = _range_to_networks(row["ip_from"], row["ip_to"])
        except ValueError as exc:
            yield line, f"bad IP range: {exc}"
            continue
        proxy_type = IP2PROXY_TYPES.get(row["proxy_type"] or "", row["proxy_type"] and row["proxy_type"].lower())
        for network in networks:
            yield line, {
                "network": str(network),
                "asn": row.get("asn"),
                "as_org": row.get("as"),
                "proxy_type": proxy_type,
                "proxy_network": row.get("provider"),
            }


def _range_to_networks(first: str | None, last: str | None) -> list:
    """CIDRs covering an inclusive integer range; IPv4-mapped IPv6 ranges become IPv4."""
    if first is None or last is None or not first.isdigit() or not last.isdigit():
        raise ValueError(f"ip_from/ip_to must be integers (got {first!r}, {last!r})")
    low, high = int(first), int(last)
    if low > high:
        raise ValueError(f"ip_from {low} is above ip_to {high}")
    if high < 2**32:
        start, end = ipaddress.IPv4Address(low), ipaddress.IPv4Address(high)
    elif high < 2**128:
        start, end = ipaddress.IPv6Address(low), ipaddress.IPv6Address(high)
        if start in IPV4_MAPPED and end in IPV4_MAPPED:
            start, end = start.ipv4_mapped, end.ipv4_mapped
    else:
        raise ValueError(f"ip_to {high} is not an IP address number")
    return list(ipaddress.summarize_address_range(start, end))


_TOR_LINE = re.compile(r"^\s*(?:ExitAddress\s+)?(\S+)")


def tor_records(path: Path, on_bad_line) -> Iterator[tuple[int, dict[str, str]]]:
    """ip_intel rows from the Tor bulk exit list: one address per line, ``#`` comments."""
    for line, text in physical_lines(path, on_bad_line):
        content = text.split("#", 1)[0].strip()
        if content:
            yield line, {"network": _TOR_LINE.match(content).group(1), "proxy_type": "tor", "proxy_network": "tor"}
