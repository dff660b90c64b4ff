"""Chokepoints: the few identifiers whose blocking stops most of a campaign, and what blocking them costs.

Blocking an identifier (a card, device, API key, phone, address, ASN, proxy network or template family) means
refusing every account seen using it. For one campaign, ``plan`` picks identifiers until the blocked accounts
hold at least ``target`` of the campaign's accounts **and** of its requests, preferring identifiers that hit
few accounts outside the campaign (the collateral).

Algorithm: greedy weighted partial set cover. Elements are the campaign's accounts; an identifier covers
the members that use it and costs ``1 + collateral_accounts`` (one block, plus every honest account it
would also stop). Each step takes the identifier with the largest newly covered share (of accounts plus of
requests) per unit of cost; ties go to the smaller (kind, value). When both targets are met a pruning pass
drops any chosen identifier the others make redundant, last chosen first. Greedy set cover is within a factor
H(n) ≤ 1 + ln n of the cheapest cover of n elements (Johnson 1974, Chvátal 1979), and the same bound holds
for covering only a share of the elements (Slavík 1997).

Example::

    from graph.act import chokepoints
    result = chokepoints.plan("cmp-1a2b3c4d5e", target=0.95)
    result["identifiers"][0]  # {"kind": "payment", "value": "pm_9", "accounts": 40, "requests": 9000, ...}
"""
from __future__ import annotations

import math

from graph import db
from graph.config import setting
from graph.errors import LinkwatchError


class CampaignNotFound(LinkwatchError):
    """No campaign with that id."""


def default_target() -> float:
    return parse_target(setting("LINKWATCH_CHOKEPOINT_TARGET"), "LINKWATCH_CHOKEPOINT_TARGET")


def parse_target(raw, name: str = "target") -> float:
    """A share in (0, 1]; LinkwatchError naming ``name`` otherwise."""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise LinkwatchError(f"{name} must be a share between 0 and 1 (e.g. 0.95), got {str(raw)[:40]!r}") from None
    if not (0 < value <= 1) or math.isnan(value):
        raise LinkwatchError(f"{name} must be a share above 0 and at most 1 (e.g. 0.95), got {value:g}")
    return value


def cover(members: dict[str, int], candidates: list[dict], target: float) -> dict:
    """The greedy cover on plain data (no database): ``members`` account -> requests; ``candidates`` dicts with
    kind, value, users (member ids), collateral_accounts, collateral_requests. Returns the API's result shape."""
    total_accounts, total_requests = len(members), sum(members.values())
    need_accounts = math.ceil(target * total_accounts - 1e-9)
    need_requests = target * total_requests - 1e-9
    usable = sorted((c for c in candidates if any(u in members for u in c["users"])),
                    key=lambda c: (c["kind"], str(c["value"])))
    users = [frozenset(u for u in c["users"] if u in members) for c in usable]

    def reached(accounts: set[str]) -> bool:
        return len(accounts) >= need_accounts and sum(members[a] for a in accounts) >= need_requests

    def gain(new: frozenset) -> float:
        share = len(new) / total_accounts if total_accounts else 0.0
        return share + (sum(members[a] for a in new) / total_requests if total_requests else 0.0)

    chosen: list[int] = []
    covered: set[str] = set()
    while not reached(covered):
        best, best_ratio = None, 0.0
        for i, who in enumerate(users):
            if i in chosen:
                continue
            ratio = gain(who - covered) / (1 + usable[i]["collateral_accounts"])
            if ratio > best_ratio:
                best, best_ratio = i, ratio
        if best is None:  # nothing left covers anyone new: the target cannot be reached
            break
        chosen.append(best)
        covered |= users[best]
    if reached(covered):
        for i in reversed(list(chosen)):
            rest = set().union(*(users[j] for j in chosen if j != i)) if len(chosen) > 1 else set()
            if reached(rest):
                chosen.remove(i)
                covered = rest
    identifiers = [{
        "kind": usable[i]["kind"], "value": usable[i]["value"], "accounts": len(users[i]),
        "requests": sum(members[a] for a in users[i]),
        "collateral_accounts": usable[i]["collateral_accounts"],
        "collateral_requests": usable[i]["collateral_requests"],
    } for i in chosen]
    return {
        "target": target,
        "covered_accounts": round(len(covered) / total_accounts, 4) if total_accounts else 0.0,
        "covered_requests": round(sum(members[a] for a in covered) / total_requests, 4) if total_requests else 0.0,
        "identifiers": identifiers,
    }


def plan(campaign_id: str, target: float | None = None) -> dict:
    """Chokepoints of one stored campaign (see the module docstring); CampaignNotFound for an unknown id."""
    target = default_target() if target is None else parse_target(target)
    rows = db.run("act/chokepoint_candidates", campaign=campaign_id)
    if not rows:
        raise CampaignNotFound(f"no campaign {campaign_id[:80]!r}; list them with the Campaigns page or /api/campaigns")
    members = {m["account"]: int(m["requests"] or 0) for m in rows[0]["members"]}
    return {"campaign_id": campaign_id, **cover(members, rows[0]["candidates"], target)}
