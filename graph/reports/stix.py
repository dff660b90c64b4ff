"""STIX 2.1 indicators of the flagged campaigns, built with the ``stix2`` library.

What is exported, and what is not (docs/reports.md, "Privacy decisions"):

* datacenter and hosting IP addresses that at least two members used, their ip_intel networks (only
  blocks no broader than /16 for IPv4 and /48 for IPv6: a whole provider is not an indicator), and the ASNs
  of those addresses: operator-rented infrastructure;
* proxy networks (residential, datacenter, hosting, Tor) that at least two members went through, by name:
  the provider, not any one exit;
* payment fingerprints and prompt-template ids only as SHA-256 digests in custom observable types
  (``x-linkwatch-payment-method``, ``x-linkwatch-prompt-template``): a receiver holding the same value can
  match it, nobody can read it.

Never exported: residential, VPN and Tor exit addresses (other people's home connections and shared
anonymity services: blocking them hurts honest users), account ids, e-mail addresses, any other personal data.
"""
from __future__ import annotations

import hashlib
import ipaddress
from datetime import datetime

import stix2

from graph import db
from graph.detect.scoring import TEMPLATE_QUORUM

IP_TYPES = ("datacenter", "hosting")
NETWORK_TYPES = ("residential", "datacenter", "hosting", "tor")
MIN_MEMBERS = 2
MAX_PREFIX = {4: 16, 6: 48}  # broadest ip_intel block exported per IP version
# The producer: one fixed identity, so every bundle Linkwatch writes names the same producer object.
IDENTITY = stix2.Identity(
    id="identity--6c0b5a3e-1f0e-4f7c-9a8e-2c4d9b1e7a52", created="2026-01-01T00:00:00.000Z",
    modified="2026-01-01T00:00:00.000Z", name="Linkwatch", identity_class="system",
    description="Linkwatch account-linkage detection: coordinated account clusters found in model API traffic",
)


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _literal(value: str) -> str:
    """A STIX pattern string literal (quotes and backslashes escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def indicator_rows(campaign_ids: list[str]) -> list[dict]:
    """What the members of each campaign share (raw values: hash before anything leaves the process)."""
    return db.run("reports/indicators", campaign_ids=campaign_ids, ip_types=list(IP_TYPES),
                  network_types=list(NETWORK_TYPES), min_members=MIN_MEMBERS, template_quorum=TEMPLATE_QUORUM)


def _patterns(row: dict) -> list[tuple[str, str, str, str]]:
    """(pattern, indicator type, name, description) for one shared thing; several for an IP (address, block, ASN)."""
    kind, value, members = row["kind"], row["value"], row["members"]
    used = f"used by {members} accounts of the campaign"
    if kind == "payment":
        digest = sha256(value)
        return [(f"[x-linkwatch-payment-method:fingerprint_sha256 = '{digest}']", "attribution",
                 f"payment method sha256:{digest[:12]}…",
                 f"SHA-256 of a payment fingerprint {used}; hash your own fingerprints to match")]
    if kind == "template":
        digest = sha256(value)
        return [(f"[x-linkwatch-prompt-template:id_sha256 = '{digest}']", "attribution",
                 f"prompt template sha256:{digest[:12]}…",
                 f"SHA-256 of a Linkwatch prompt-template id sent by {members} accounts of the campaign")]
    if kind == "proxy_network":
        return [(f"[x-linkwatch-proxy-network:name = {_literal(value)}]", "anonymization",
                 f"{row['proxy_type']} proxy network {value}",
                 f"{row['proxy_type']} proxy network {used} (by name, as in ip_intel; its exits are not listed)")]
    address = ipaddress.ip_address(value)
    sco = f"ipv{address.version}-addr"
    patterns = [(f"[{sco}:value = '{address}']", "anonymization", f"{row['proxy_type']} IP {address}",
                 f"{row['proxy_type']} address {used}")]
    if row["network"]:
        network = ipaddress.ip_network(row["network"], strict=False)
        if network.version == address.version and network.prefixlen >= MAX_PREFIX[network.version]:
            patterns.append((f"[{sco}:value ISSUBSET '{network}']", "anonymization",
                             f"{row['proxy_type']} network {network}",
                             f"ip_intel block holding {row['proxy_type']} addresses {used}"))
    if row["asn"] is not None:
        patterns.append((f"[autonomous-system:number = {int(row['asn'])}]", "anonymization", f"AS{int(row['asn'])}",
                         f"autonomous system of {row['proxy_type']} addresses {used}; context, too broad to block alone"))
    return patterns


# Chokepoints follow the rules above: devices, API keys and phone numbers (provider-internal or personal: a
# receiver cannot match them or should not hold them) are never exported, addresses only when datacenter or
# hosting, proxy networks only of NETWORK_TYPES. The exported ones carry this label.
CHOKEPOINT_LABEL = "chokepoint"


def _chokepoint_pattern(item: dict, types: dict[tuple[str, str], str | None]) -> tuple[str, str, str, str] | None:
    """(pattern, indicator type, name, description) of one chokepoint, or None when it is not exported.
    ``types``: (kind, value) -> proxy type of the plan's addresses and proxy networks."""
    kind, value = item["kind"], item["value"]
    proxy_type = types.get((kind, value))
    if kind == "payment":
        return _patterns({"kind": "payment", "value": value, "members": item["accounts"]})[0]
    if kind == "template":  # a template family: its id is the id of one of its templates
        digest = sha256(value)
        return (f"[x-linkwatch-prompt-template:id_sha256 = '{digest}']", "attribution",
                f"prompt template family sha256:{digest[:12]}…",
                f"SHA-256 of a Linkwatch prompt-template family id sent by {item['accounts']} accounts of the campaign")
    if kind == "proxy_network" and proxy_type in NETWORK_TYPES:
        return (f"[x-linkwatch-proxy-network:name = {_literal(value)}]", "anonymization",
                f"{proxy_type} proxy network {value}", f"{proxy_type} proxy network used by {item['accounts']} "
                "accounts of the campaign (by name, as in ip_intel)")
    if kind == "asn":
        return (f"[autonomous-system:number = {int(value)}]", "anonymization", f"AS{int(value)}",
                f"autonomous system used by {item['accounts']} accounts of the campaign")
    if kind == "ip" and proxy_type in IP_TYPES:
        address = ipaddress.ip_address(value)
        return (f"[ipv{address.version}-addr:value = '{address}']", "anonymization", f"{proxy_type} IP {address}",
                f"{proxy_type} address used by {item['accounts']} accounts of the campaign")
    return None


def _cost(item: dict) -> str:
    return (f"blocks {item['accounts']} of the campaign's accounts ({item['requests']} requests); collateral: "
            f"{item['collateral_accounts']} accounts outside flagged campaigns ({item['collateral_requests']} requests)")


def build(campaigns: list[dict], rows: list[dict], detected_at: datetime, tlp: str | None = None,
          plans: dict[str, dict] | None = None) -> stix2.Bundle:
    """A bundle: the producer, one ``campaign`` per flagged campaign, its indicators and ``indicates`` links.

    ``campaigns``: dicts with campaign_id, score, evidence, accounting; ``rows``: ``indicator_rows()``;
    ``detected_at``: start of the detection run the indicators come from (their ``valid_from``); ``tlp``: the
    marking (default LINKWATCH_STIX_TLP). An indicator a partner shared under a stricter TLP keeps theirs.
    ``plans``: campaign id -> its chokepoint plan (graph/act/chokepoints.py ``plan``): the exportable
    chokepoints are the recommended indicators — labelled ``chokepoint`` and tied to one ``course-of-action``
    per campaign by ``mitigates`` relationships whose descriptions give each one's collateral.
    """
    from graph.act import indicators as partner

    tlp = partner.normalise_tlp(tlp) if tlp else partner.export_tlp()
    plans = plans or {}
    named = {kind: sorted({i["value"] for plan in plans.values() for i in plan["identifiers"] if i["kind"] == kind})
             for kind in ("ip", "proxy_network")}
    types = {(r["kind"], r["value"]): r["proxy_type"] for r in db.run(
        "reports/chokepoint_types", ips=named["ip"], networks=named["proxy_network"])} if any(named.values()) else {}
    recommended = {cid: [(item, p) for item in plan["identifiers"] if (p := _chokepoint_pattern(item, types))]
                   for cid, plan in plans.items()}
    patterns = {p: partner.pattern_keys(p[0]) for row in rows for p in _patterns(row)}
    patterns.update({p: partner.pattern_keys(p[0]) for items in recommended.values() for _, p in items})
    imported = partner.imported_tlp(sorted({k for keys in patterns.values() for k in keys}))
    used_markings: dict[str, object] = {}

    def marking(level: str) -> list[str]:
        definition = partner.stix_marking(level)
        used_markings[definition.id] = definition
        return [definition.id]

    objects: list = [IDENTITY]
    by_campaign: dict[str, list[dict]] = {}
    for row in rows:
        by_campaign.setdefault(row["campaign_id"], []).append(row)
    for campaign in campaigns:
        accounting = campaign["accounting"]
        sdo = stix2.Campaign(
            name=campaign["campaign_id"], created_by_ref=IDENTITY.id,
            description=f"Linkwatch score {campaign['score']:.0f}/100. " + " ".join(
                line if line.endswith(".") else line + "." for line in campaign["evidence"]),
            first_seen=accounting.get("first_activity"), last_seen=accounting.get("last_activity"),
            object_marking_refs=marking(tlp),
        )
        objects.append(sdo)
        chosen = {p[0]: (item, p) for item, p in recommended.get(campaign["campaign_id"], [])}
        made: dict[str, tuple] = {}  # pattern -> (indicator, its TLP); an ASN or block shared by several addresses is one
        # chokepoints first: an indicator that is also a chokepoint carries the chokepoint's description
        wanted = [p for _, p in chosen.values()]
        wanted += [p for row in by_campaign.get(campaign["campaign_id"], []) for p in _patterns(row)]
        for pattern, indicator_type, name, description in wanted:
            if pattern in made:
                continue
            level = tlp
            for key in patterns[(pattern, indicator_type, name, description)]:
                level = partner.stricter(level, imported.get(key))
            indicator = stix2.Indicator(
                pattern=pattern, pattern_type="stix", valid_from=detected_at, indicator_types=[indicator_type],
                name=name, description=f"{description} ({campaign['campaign_id']})", created_by_ref=IDENTITY.id,
                object_marking_refs=marking(level), **({"labels": [CHOKEPOINT_LABEL]} if pattern in chosen else {}),
            )
            made[pattern] = (indicator, level)
            objects += [indicator, stix2.Relationship(indicator, "indicates", sdo, created_by_ref=IDENTITY.id,
                                                      object_marking_refs=marking(level))]
        if chosen:
            objects += _course_of_action(campaign["campaign_id"], plans[campaign["campaign_id"]], chosen, made,
                                         marking(tlp), marking)
    return stix2.Bundle(objects + list(used_markings.values()), allow_custom=False)


def _course_of_action(campaign_id: str, plan: dict, chosen: dict, made: dict, markings: list[str], marking) -> list:
    """The recommendation: block the exported chokepoints (``mitigates`` each one, with its collateral)."""
    exported = {(item["kind"], item["value"]) for item, _ in chosen.values()}
    left = [i for i in plan["identifiers"] if (i["kind"], i["value"]) not in exported]
    private, left_out = sorted({i["kind"] for i in left}), len(left)
    collateral = sum(i["collateral_accounts"] for i in plan["identifiers"])
    description = (f"Recommended indicators for Linkwatch campaign {campaign_id}: blocking its "
                   f"{len(plan['identifiers'])} chokepoint identifier(s) refuses {plan['covered_accounts']:.0%} of "
                   f"its accounts and {plan['covered_requests']:.0%} of its requests (target {plan['target']:.0%}), "
                   f"with {collateral} account(s) outside flagged campaigns as collateral (summed over the "
                   f"identifiers).")
    if left_out:
        description += (f" {left_out} of them ({', '.join(private)}) are not exported: personal or provider-internal "
                        "identifiers, addresses that are not datacenter or hosting, or VPN networks.")
    action = stix2.CourseOfAction(name=f"Block the chokepoints of {campaign_id}", description=description,
                                  created_by_ref=IDENTITY.id, object_marking_refs=markings)
    out = [action]
    for pattern, (item, _) in chosen.items():
        indicator, level = made[pattern]
        out.append(stix2.Relationship(action, "mitigates", indicator, description=_cost(item),
                                      created_by_ref=IDENTITY.id, object_marking_refs=marking(level)))
    return out
