"""Inputs that are not bundle tables: public IP intelligence files and mapped exports.

Each is turned into rows of a bundle table (``ip_intel`` for the IP lists), so the same
validation and writing apply to every source.
"""
from __future__ import annotations

import csv
import ipaddress
import tomllib
from collections.abc import Iterator
from pathlib import Path

from graph.errors import LinkwatchError
from loaders.spec import IP2PROXY_TYPES, NOT_A_PROXY_NETWORK, TABLES
from loaders.tables import FileProblem, Source, csv_records, csv_rows, file_format, physical_lines

# --format values besides the default ``bundle``.
EXTERNAL_FORMATS = ("maxmind-asn", "maxmind-geo", "ip2proxy", "tor-exits")

MAXMIND_COLUMNS = {
    "network": "network",
    "autonomous_system_number": "asn",
    "autonomous_system_organization": "as_org",
}

# Column layouts of IP2Proxy LITE/commercial CSVs by field count, named as ip_intel columns (PX9 and PX10
# share one layout; PX1 has no proxy type: every range is a proxy of unknown type).
_PX_BASE = ["ip_from", "ip_to", "proxy_type", "country", "country_name"]
_PX_MORE = ["region", "city", "isp", "domain", "usage_type", "asn", "as_org", "last_seen_days", "threat", "provider",
            "fraud_score"]
IP2PROXY_LAYOUTS = {4: ["ip_from", "ip_to", "country", "country_name"],
                    **{len(_PX_BASE) + n: _PX_BASE + _PX_MORE[:n] for n in (0, 2, 3, 4, 5, 7, 8, 9, 10, 11)}}

IPV4_MAPPED = ipaddress.ip_network("::ffff:0:0/96")


def external_sources(paths: list[Path], fmt: str, log=None) -> list[Source]:
    """Sources for --format maxmind-asn | maxmind-geo | ip2proxy | tor-exits: every file becomes ip_intel rows."""
    files = []
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise LinkwatchError(f"{path}: no such file or folder")
        files.extend(sorted(p for p in path.iterdir() if p.is_file() or p.is_symlink())
                     if path.is_dir() and not path.is_symlink() else [path])
    if fmt == "maxmind-geo":
        # the locations files are read first (their names per geoname_id fill in the blocks' rows)
        locations = [f for f in files if _maxmind_kind(f) == "locations"]
        return [Source("ip_intel", f, fmt, constants={}, rename={}, extra={"locations": locations})
                for f in files if f not in locations]
    rename = MAXMIND_COLUMNS if fmt == "maxmind-asn" else {}
    return [Source("ip_intel", f, fmt, rename=rename) for f in files]


def mapped_sources(paths: list[Path], mapping_path: Path, log=None) -> list[Source]:
    """Sources for --mapping: any CSV/JSONL/Parquet export renamed into one bundle table."""
    table, rename, constants = read_mapping(mapping_path)
    sources = []
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise LinkwatchError(f"{path}: no such file or folder")
        files = (sorted(p for p in path.iterdir() if p.is_file() or p.is_symlink())
                 if path.is_dir() and not path.is_symlink() else [path])
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


def ip2proxy_records(path: Path, on_bad_line, warn=None) -> Iterator[tuple[int, dict[str, str] | str]]:
    """ip_intel rows from an IP2Proxy CSV (no header, every field quoted, ``-`` = empty), IPv4 or IPv6 file:
    each integer range becomes the CIDRs that cover it (IPv4-mapped IPv6 ranges become IPv4)."""
    layout: list[str] | None = None
    unknown_types: dict[str, int] = {}
    for line, record in csv_rows(path, on_bad_line):
        if layout is None:
            layout = IP2PROXY_LAYOUTS.get(len(record))
            if layout is None:
                yield line, (f"{len(record)} fields is not an IP2Proxy PX1-PX12 layout "
                             f"(expected {', '.join(map(str, sorted(IP2PROXY_LAYOUTS)))})")
                return
        if len(record) != len(layout):
            yield line, f"expected {len(layout)} fields, found {len(record)}"
            continue
        row = dict(zip(layout, (None if v.strip() in ("-", "") else v.strip() for v in record)))
        try:
            networks = _range_to_networks(row.pop("ip_from"), row.pop("ip_to"))
        except ValueError as exc:
            yield line, f"bad IP range: {exc}"
            continue
        code = row.pop("proxy_type", None)
        if "proxy_type" not in layout:
            code = "PROXY"  # PX1: listed as a proxy, type not given
        proxy_type = IP2PROXY_TYPES.get(code.upper()) if code else None
        if code and proxy_type is None and code.upper() != "PROXY":
            unknown_types[code] = unknown_types.get(code, 0) + 1
        provider = row.get("provider")
        intel = {**row, "proxy_type": proxy_type, "feed_type": code.upper() if code else None,
                 # honest egress (EPN) is not a proxy network: its customers must not link to each other
                 "proxy_network": provider if proxy_type not in NOT_A_PROXY_NETWORK else None}
        for network in networks:
            yield line, {"network": str(network), **intel}
    if unknown_types and warn is not None:
        listed = ", ".join(f"{code} ({n:,} rows)" for code, n in sorted(unknown_types.items()))
        warn(f"{path}: IP2Proxy proxy type(s) {listed} are not known to Linkwatch: kept as feed_type, "
             "without a proxy_type")


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


TORDNSEL_KEYWORDS = ("@type", "Downloaded", "ExitNode", "Published", "LastStatus")


def tor_records(path: Path, on_bad_line) -> Iterator[tuple[int, dict[str, str]]]:
    """ip_intel rows from Tor's exit lists: the bulk list (one address per line, ``#`` comments) or the
    ``exit-addresses`` file (tordnsel format: ``@type tordnsel 1.0``, ``Downloaded``, then per relay
    ``ExitNode``, ``Published``, ``LastStatus`` and one or more ``ExitAddress <ip> <date> <time>``), whose
    exit times become last_seen (the latest one when an address is listed several times)."""
    for line, text in physical_lines(path, on_bad_line):
        content = text.split("#", 1)[0].strip()
        if not content:
            continue
        words = content.split()
        if words[0] in TORDNSEL_KEYWORDS:
            continue
        row = {"proxy_type": "tor", "proxy_network": "tor", "feed_type": "TOR"}
        if words[0] == "ExitAddress":
            if len(words) < 2:
                yield line, "ExitAddress without an address"
                continue
            row["network"] = words[1]
            if len(words) >= 4:
                row["last_seen"] = f"{words[2]}T{words[3]}Z"
            elif len(words) == 3:
                row["last_seen"] = words[2]
        else:
            row["network"] = words[0]
        yield line, row


# ------------------------------------------------------------------ MaxMind GeoLite2 Country / City

MAXMIND_BLOCK_HEADER = ("network", "geoname_id", "registered_country_geoname_id", "represented_country_geoname_id",
                        "is_anonymous_proxy", "is_satellite_provider")
MAXMIND_LOCATION_HEADER = ("geoname_id", "locale_code", "continent_code", "continent_name", "country_iso_code",
                           "country_name")


def _first_line(path: Path) -> list[str]:
    try:
        for _, text in physical_lines(path, lambda *_: None):
            return [name.strip() for name in next(csv.reader([text]), [])]
    except FileProblem:
        return []
    return []


def _maxmind_kind(path: Path) -> str | None:
    """``locations`` or ``blocks`` from a GeoLite2 Country/City CSV header, else None."""
    if path.is_symlink():
        return None
    header = tuple(_first_line(path))
    if header[: len(MAXMIND_LOCATION_HEADER)] == MAXMIND_LOCATION_HEADER:
        return "locations"
    if header[: len(MAXMIND_BLOCK_HEADER)] == MAXMIND_BLOCK_HEADER:
        return "blocks"
    return None


def maxmind_geo_records(source: Source, on_bad_line, warn=None) -> Iterator[tuple[int, dict[str, str] | str]]:
    """ip_intel rows from a GeoLite2 Country or City blocks file (IPv4 or IPv6), with country, region and city
    names from the locations files given with it (by geoname_id, else registered_country_geoname_id)."""
    places: dict[str, dict[str, str]] = {}
    for locations in source.extra.get("locations", []):
        for line, record in csv_records(locations, lambda *_: None):
            if isinstance(record, dict) and record.get("geoname_id"):
                places[record["geoname_id"]] = record
    if _maxmind_kind(source.path) != "blocks":
        yield 1, ("not a GeoLite2 Country/City blocks or locations file (the header must start with "
                  f"{','.join(MAXMIND_BLOCK_HEADER[:3])} or {','.join(MAXMIND_LOCATION_HEADER[:3])})")
        return
    for line, record in csv_records(source.path, on_bad_line):
        if isinstance(record, str):
            yield line, record
            continue
        place = (places.get(record.get("geoname_id") or "")
                 or places.get(record.get("registered_country_geoname_id") or "") or {})
        yield line, {
            "network": record.get("network"),
            "country": place.get("country_iso_code"),
            "country_name": place.get("country_name"),
            "region": place.get("subdivision_1_name"),
            "city": place.get("city_name"),
            "postal_code": record.get("postal_code"),
            "latitude": record.get("latitude"),
            "longitude": record.get("longitude"),
        }
