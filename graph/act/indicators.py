"""Partner indicators: import another provider's STIX 2.1 bundle, match it against campaigns, mark exports with TLP.

Import (``import_file``) reads the whole bundle, validates it (JSON, STIX 2.1 schema through
``stix2-validator``, every indicator's pattern through ``stix2-patterns``, every value it names) and only then
writes, in one transaction; a bad bundle writes nothing and the error names the object and the problem.
Indicators are stored as ``(:PartnerIndicator {source, kind, value, tlp, stix_id, pattern, valid_from,
imported_at})``, one per (source, kind, value): a re-import updates them in place.

Understood comparisons (anything else, such as file hashes or URLs, is counted as skipped):

==================================================  ===================  ====================================
pattern                                             kind                 matched against
==================================================  ===================  ====================================
``ipv4-addr:value`` / ``ipv6-addr:value`` = 'a'     ``ip``               members' addresses
the same with a prefix, or ``ISSUBSET 'net'``       ``cidr``             members' addresses inside it
``autonomous-system:number = n``                    ``asn``              members' ASNs
``domain-name:value = 'd'``                         ``domain``           members' e-mail domains
``x-linkwatch-proxy-network:name = 'n'``            ``proxy_network``    members' proxy networks
``x-linkwatch-payment-method:fingerprint_sha256``   ``payment_sha256``   SHA-256 of members' payment methods
``x-linkwatch-prompt-template:id_sha256``           ``template_sha256``  SHA-256 of members' template ids
==================================================  ===================  ====================================

TLP: an indicator keeps the strictest of the markings the bundle gives it and ``--tlp``; without either it is
stored as TLP:AMBER (share with care until told otherwise). Exports (``graph/reports/stix.py``) are marked with
``LINKWATCH_STIX_TLP``, and an exported indicator that matches an imported one is marked at least as strictly
as the import — never re-exported above it.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from datetime import datetime, timezone
from pathlib import Path

from graph import db
from graph.config import setting
from graph.errors import LinkwatchError

TLP_ORDER = ("clear", "green", "amber", "amber+strict", "red")
TLP_ALIASES = {"white": "clear"}
# The STIX 2.1 TLP 1.0 marking definitions (fixed ids in the specification) and the TLP 2.0 names.
TLP_MARKING_IDS = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
    # TLP 2.0 (OASIS extension): amber+strict has no TLP 1.0 equivalent
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "clear",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "green",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "amber",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "amber+strict",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "red",
}
MAX_BUNDLE_BYTES = 64 * 1024 * 1024
MAX_VALUE_CHARS = 1_000
MAX_SOURCE_CHARS = 100
SHA256 = re.compile(r"[0-9a-f]{64}")
DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.?")
WRITE_BATCH = 5_000
KIND_WORDS = {"proxy_network": ("proxy network", "proxy networks"),
              "payment_sha256": ("payment fingerprint", "payment fingerprints"),
              "template_sha256": ("prompt template", "prompt templates"), "ip": ("address", "addresses"),
              "cidr": ("address in their blocks", "addresses in their blocks"), "asn": ("ASN", "ASNs"),
              "domain": ("e-mail domain", "e-mail domains")}


class BundleError(LinkwatchError):
    """A STIX bundle that cannot be imported: nothing was written.

    The message quotes bundle text (ids, validator findings): control characters become spaces so that it
    stays one line and cannot drive a terminal."""

    def __init__(self, message: str):
        super().__init__("".join(" " if ord(ch) < 32 or 127 <= ord(ch) < 160 else ch for ch in message))


def normalise_tlp(name: str | None, what: str = "--tlp") -> str | None:
    if name is None:
        return None
    value = TLP_ALIASES.get(str(name).strip().lower().removeprefix("tlp:"), str(name).strip().lower().removeprefix("tlp:"))
    if value not in TLP_ORDER:
        raise LinkwatchError(f"{what}: unknown TLP level {str(name)[:40]!r}; use one of {', '.join(TLP_ORDER)}")
    return value


def stricter(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return max(a, b, key=TLP_ORDER.index)


def export_tlp() -> str:
    """The TLP exports carry (LINKWATCH_STIX_TLP); a TLP 2.0-only level exports as its TLP 1.0 marking above it."""
    return normalise_tlp(setting("LINKWATCH_STIX_TLP"), "LINKWATCH_STIX_TLP")


def check_source(source: str) -> str:
    name = (source or "").strip()
    if not name or len(name) > MAX_SOURCE_CHARS or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise LinkwatchError(f"--source must be 1 to {MAX_SOURCE_CHARS} printable characters naming the partner")
    return name


# ---- parsing ------------------------------------------------------------------------------------------------

def _literal(raw: str, where: str) -> str:
    if len(raw) < 2 or raw[0] != "'" or raw[-1] != "'":
        raise BundleError(f"{where}: expected a quoted string, got {raw[:60]!r}")
    return re.sub(r"\\(.)", r"\1", raw[1:-1])


def _comparison(obj_type: str, path: list, op: str, raw: str, where: str) -> tuple[str, str] | None:
    """(kind, normalised value) for one understood comparison, None for one Linkwatch does not use."""
    prop = ".".join(str(p) for p in path)
    if op not in ("=", "ISSUBSET"):
        return None
    if obj_type in ("ipv4-addr", "ipv6-addr") and prop == "value":
        text = _literal(raw, where)
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise BundleError(f"{where}: {text[:60]!r} is not an IP address or CIDR block") from None
        if network.version != (4 if obj_type == "ipv4-addr" else 6):
            raise BundleError(f"{where}: {text[:60]!r} is not an {obj_type} value")
        if network.num_addresses == 1 and op == "=":
            return "ip", str(network.network_address)
        return "cidr", str(network)
    if obj_type == "autonomous-system" and prop == "number" and op == "=":
        try:
            number = int(raw)
        except ValueError:
            raise BundleError(f"{where}: autonomous-system number must be an integer, got {raw[:60]!r}") from None
        if not 0 <= number <= 4_294_967_295:
            raise BundleError(f"{where}: autonomous-system number {number} is out of range")
        return "asn", str(number)
    if obj_type == "domain-name" and prop == "value" and op == "=":
        text = _literal(raw, where).lower()
        if not DOMAIN.fullmatch(text):
            raise BundleError(f"{where}: {text[:60]!r} is not a domain name")
        return "domain", text.rstrip(".")
    if obj_type == "x-linkwatch-proxy-network" and prop == "name" and op == "=":
        text = _literal(raw, where)
        if not text or len(text) > MAX_VALUE_CHARS:
            raise BundleError(f"{where}: a proxy network name must be 1 to {MAX_VALUE_CHARS} characters")
        return "proxy_network", text
    hashed = {("x-linkwatch-payment-method", "fingerprint_sha256"): "payment_sha256",
              ("x-linkwatch-prompt-template", "id_sha256"): "template_sha256"}.get((obj_type, prop))
    if hashed and op == "=":
        text = _literal(raw, where).lower()
        if not SHA256.fullmatch(text):
            raise BundleError(f"{where}: {prop} must be 64 hexadecimal digits (a SHA-256)")
        return hashed, text
    return None


def _validate_schema(bundle: dict, path: Path) -> None:
    from stix2validator import ValidationOptions, validate_parsed_json

    try:
        results = validate_parsed_json(bundle, ValidationOptions(version="2.1", strict=False))
    except Exception as exc:  # the validator raises on shapes it cannot walk at all
        raise BundleError(f"{path}: not a valid STIX 2.1 bundle ({str(exc)[:200]})") from None
    for result in results if isinstance(results, list) else [results]:
        for error in result.errors:
            raise BundleError(f"{path}: {result.object_id or 'bundle'}: {str(error)[:300]}")


def parse_bundle(path: Path, default_tlp: str | None = None) -> tuple[list[dict], int]:
    """Every indicator value of the bundle as dicts (kind, value, tlp, stix_id, pattern, valid_from), and how many
    indicators were skipped (other pattern languages, observables Linkwatch does not use). BundleError on any
    problem, naming the object."""
    try:
        if path.stat().st_size > MAX_BUNDLE_BYTES:
            raise BundleError(f"{path}: larger than {MAX_BUNDLE_BYTES // (1024 * 1024)} MB")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BundleError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BundleError(f"{path}: is a folder, not a STIX bundle file") from None
    except UnicodeDecodeError as exc:
        raise BundleError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        bundle = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BundleError(f"{path}: line {exc.lineno}: not JSON ({exc.msg})") from None
    if not isinstance(bundle, dict) or bundle.get("type") != "bundle" or not isinstance(bundle.get("objects"), list):
        raise BundleError(f"{path}: not a STIX bundle (expected an object with \"type\": \"bundle\" and \"objects\")")
    for index, obj in enumerate(bundle["objects"]):
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not isinstance(obj.get("type"), str):
            raise BundleError(f"{path}: objects[{index}]: not a STIX object (no type or id)")
    _validate_schema(bundle, path)

    from stix2patterns.v21.pattern import Pattern

    markings = {}
    for obj in bundle["objects"]:
        if obj["type"] == "marking-definition":
            tlp = TLP_MARKING_IDS.get(obj["id"])
            definition = obj.get("definition")
            if tlp is None and obj.get("definition_type") == "tlp" and isinstance(definition, dict):
                tlp = normalise_tlp(definition.get("tlp"), f"{path}: {obj['id']}")
            if tlp is None and isinstance(obj.get("name"), str) and obj["name"].upper().startswith("TLP:"):
                tlp = normalise_tlp(obj["name"], f"{path}: {obj['id']}")
            if tlp:
                markings[obj["id"]] = tlp
    values: list[dict] = []
    skipped = 0
    for obj in bundle["objects"]:
        if obj["type"] != "indicator":
            continue
        where = f"{path}: {obj['id']}"
        if obj.get("pattern_type") != "stix":
            skipped += 1
            continue
        pattern = obj.get("pattern")
        if not isinstance(pattern, str) or len(pattern) > 10 * MAX_VALUE_CHARS:
            raise BundleError(f"{where}: the pattern is missing or longer than {10 * MAX_VALUE_CHARS} characters")
        try:
            comparisons = Pattern(pattern).inspect().comparisons
        except Exception as exc:
            raise BundleError(f"{where}: the pattern is not valid STIX patterning ({str(exc)[:200]})") from None
        tlp = default_tlp
        for ref in obj.get("object_marking_refs") or []:
            tlp = stricter(tlp, markings.get(ref) or TLP_MARKING_IDS.get(ref))
        understood = [found for obj_type, items in comparisons.items() for path_, op, raw in items
                      if (found := _comparison(obj_type, path_, op, raw, where))]
        if not understood:
            skipped += 1
            continue
        for kind, value in understood:
            values.append({"kind": kind, "value": value, "tlp": tlp or "amber", "stix_id": obj["id"],
                           "pattern": pattern, "valid_from": str(obj.get("valid_from", ""))[:40]})
    return values, skipped


def import_file(path: Path, source: str, tlp: str | None = None) -> dict:
    """Validate the whole bundle, then store its indicators under ``source`` (idempotent on re-import)."""
    source = check_source(source)
    default_tlp = normalise_tlp(tlp)
    values, skipped = parse_bundle(Path(path), default_tlp)
    unique: dict[tuple[str, str], dict] = {}
    for row in values:  # one value named by several indicators keeps the strictest marking
        key = (row["kind"], row["value"])
        if key in unique:
            row = {**unique[key], "tlp": stricter(unique[key]["tlp"], row["tlp"])}
        unique[key] = row
    rows = list(unique.values())
    if not rows:
        raise BundleError(f"{path}: no indicator Linkwatch can match ({skipped} skipped: other pattern languages "
                          "or observables); nothing was written")
    now = datetime.now(timezone.utc).isoformat()
    new = db.run("act/import_indicators", source=source, rows=rows, imported_at=now)[0]["new"]
    return {"source": source, "indicators": len(rows), "new": new, "skipped": skipped,
            "tlp": max((r["tlp"] for r in rows), key=TLP_ORDER.index)}


# ---- matching -------------------------------------------------------------------------------------------------

def sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def corroboration(campaign_id: str) -> list[dict]:
    """Per partner source, what of the campaign is in their bundle:
    [{"source", "tlp", "matches": {kind: count}, "sentence"}], most matches first."""
    rows = db.run("act/campaign_things", campaign=campaign_id)
    return _corroborate(rows[0]) if rows else []


def corroborate_members(campaigns: dict[str, list[str]]) -> dict[str, list[dict]]:
    """Corroboration of campaigns given as id -> member account ids (before they are stored): for each campaign
    with a partner match, the same entries as :func:`corroboration`. Detection appends their sentences to the
    campaign's stored evidence (graph/detect/pipeline.py). Without any partner indicator nothing is read."""
    if not campaigns or not db.run("act/partner_count")[0]["indicators"]:
        return {}
    out = {}
    for campaign_id, members in campaigns.items():
        found = _corroborate(db.run("act/member_things", members=list(members))[0])
        if found:
            out[campaign_id] = found
    return out


def _corroborate(things: dict) -> list[dict]:
    """Partner matches of what a campaign's members use (a row of act/campaign_things or act/member_things)."""
    probes: dict[tuple[str, str], str] = {}  # (kind, indicator value) -> the campaign's own thing
    for name in things["networks"]:
        probes[("proxy_network", name)] = name
    for value in things["payments"]:
        probes[("payment_sha256", sha256(value))] = value
    for value in things["templates"]:
        probes[("template_sha256", sha256(value))] = value
    for value in things["ips"]:
        probes[("ip", value)] = value
    for value in things["asns"]:
        probes[("asn", str(value))] = str(value)
    for mail in things["mails"]:
        if isinstance(mail, str) and "@" in mail:
            domain = mail.rsplit("@", 1)[1].lower()
            probes[("domain", domain)] = domain
    hits = db.run("act/partner_matches", probes=[{"kind": k, "value": v} for k, v in probes])
    found: dict[str, dict] = {}
    for hit in hits:
        entry = found.setdefault(hit["source"], {"source": hit["source"], "tlp": hit["tlp"], "things": {}})
        entry["tlp"] = stricter(entry["tlp"], hit["tlp"])
        entry["things"].setdefault(hit["kind"], set()).add(probes[(hit["kind"], hit["value"])])
    addresses = [ipaddress.ip_address(v) for v in things["ips"]]
    for block in db.run("act/partner_cidrs"):
        network = ipaddress.ip_network(block["value"])
        inside = {str(a) for a in addresses if a.version == network.version and a in network}
        if inside:
            entry = found.setdefault(block["source"], {"source": block["source"], "tlp": block["tlp"], "things": {}})
            entry["tlp"] = stricter(entry["tlp"], block["tlp"])
            entry["things"].setdefault("cidr", set()).update(inside)
    result = []
    for entry in found.values():
        matches = {kind: len(values) for kind, values in sorted(entry["things"].items())}
        result.append({"source": entry["source"], "tlp": entry["tlp"], "matches": matches,
                       "sentence": sentence(entry["source"], matches)})
    return sorted(result, key=lambda r: (-sum(r["matches"].values()), r["source"]))


def sentence(source: str, matches: dict[str, int]) -> str:
    """"corroborated by NAME: 4 of this campaign's proxy networks and 12 payment fingerprints are in their bundle"."""
    parts = [(n, k) for k, n in matches.items() if n]
    words = [f"{parts[0][0]} of this campaign's {KIND_WORDS[parts[0][1]][1]}"] + [
        f"{n} {KIND_WORDS[k][0] if n == 1 else KIND_WORDS[k][1]}" for n, k in parts[1:]]
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    verb = "is" if len(parts) == 1 and parts[0][0] == 1 else "are"
    return f"corroborated by {source}: {listed} {verb} in their bundle"


def pattern_keys(pattern: str) -> list[tuple[str, str]]:
    """The (kind, value) pairs a STIX pattern names, as import reads them (used to mark exports)."""
    from stix2patterns.v21.pattern import Pattern

    comparisons = Pattern(pattern).inspect().comparisons
    return [found for obj_type, items in comparisons.items() for path_, op, raw in items
            if (found := _comparison(obj_type, path_, op, raw, "pattern"))]


def stix_marking(tlp: str):
    """The stix2 TLP 1.0 marking for a level; amber+strict, which TLP 1.0 lacks, is marked red (never below it)."""
    import stix2

    return {"clear": stix2.TLP_WHITE, "green": stix2.TLP_GREEN, "amber": stix2.TLP_AMBER,
            "amber+strict": stix2.TLP_RED, "red": stix2.TLP_RED}[tlp]


def imported_tlp(patterns: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(kind, value) -> the strictest TLP any partner gave it, for the (kind, value) pairs asked about."""
    rows = db.run("act/partner_matches", probes=[{"kind": k, "value": v} for k, v in patterns]) if patterns else []
    out: dict[tuple[str, str], str] = {}
    for row in rows:
        key = (row["kind"], row["value"])
        out[key] = stricter(out.get(key), row["tlp"])
    return out
