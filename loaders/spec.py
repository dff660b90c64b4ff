"""The canonical bundle tables, their columns and validation rules, and the loader's named settings.

One table of facts drives reading (which columns are known), validation (which rule
each value must pass) and merging (which columns form the key, and whether rows sharing it are
events to aggregate or descriptions of one entity to merge).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    """A bundle column: ``rule`` names the check in loaders/validate.py."""

    name: str
    rule: str = "text"  # text | lower | digest | timestamp | ip | network | kind | count | number | country | asn | choice
    required: bool = False
    choices: tuple[str, ...] = ()
    trim: bool = True  # strip surrounding spaces (not for long free text, where it costs a copy of every value)
    # entity tables: how rows of one key combine this column - "prefer" (precedence, a difference is a conflict)
    # or "max" (the latest of several times, never a conflict: e.g. the last time a Tor exit was seen)
    combine: str = "prefer"


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    # How rows sharing a key become one (docs/data-format.md states the rule per table):
    #   "event"  - the rows are repeated events: aggregated (row count, first/last time, sums), never rejected
    #   "entity" - the rows describe one thing: complementary values merge (a missing value never conflicts);
    #              two different values follow the precedence (later file, later line) and are counted as warnings
    #   "none"   - no key: every row is kept as it is (raw requests, aggregated later)
    merge: str = "none"
    # event tables: the column whose times give first_seen/last_seen, or (first, last) columns; summed columns;
    # the column holding a per-row count (summed, a row without one counts once)
    times: tuple[str, ...] = ()
    sums: tuple[str, ...] = ()
    count: str | None = None
    checks: tuple[str, ...] = field(default=())  # cross-column checks (validate.CROSS_CHECKS)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


PROXY_TYPES = ("none", "vpn", "datacenter", "residential", "tor", "hosting",
               # IP2Proxy's further categories (PUB, WEB, SES), kept distinct rather than folded into the six above
               "public_proxy", "web_proxy", "search_engine", "ai_crawler")

# IP2Proxy's proxy types -> Linkwatch proxy_type (docs/data-format.md gives the meaning of each). The vendor's
# own code is kept too (ip_intel.feed_type). EPN (enterprise private network: a company's zero-trust egress)
# is honest corporate egress and takes the same path as a corporate NAT (`none`: an ordinary address, which
# detection treats as an office); CPN (consumer privacy network, e.g. a phone maker's private relay) is a
# consumer relay, shared by many honest users like a consumer VPN (`vpn`).
IP2PROXY_TYPES = {
    "VPN": "vpn", "TOR": "tor", "DCH": "datacenter", "RES": "residential", "PUB": "public_proxy",
    "WEB": "web_proxy", "SES": "search_engine", "CPN": "vpn", "EPN": "none", "AIC": "ai_crawler",
}
# Linkwatch proxy types whose provider is NOT a proxy network: honest egress must not link the customers of
# one provider to each other (the provider name is kept as ip_intel.provider).
NOT_A_PROXY_NETWORK = ("none",)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "accounts",
            (
                Column("account_id", required=True),
                Column("created_at", "timestamp"),
                Column("email", "lower"),
                Column("org"),
                Column("country", "country"),
                Column("plan"),
                Column("status", "choice", choices=("active", "suspended", "banned")),
            ),
            key=("account_id",),
            merge="entity",
        ),
        Table(
            "links",
            (
                Column("account_id", required=True),
                Column("kind", "kind", required=True),
                Column("value", required=True),
                Column("first_seen", "timestamp"),
                Column("last_seen", "timestamp"),
                Column("count", "count"),
            ),
            key=("account_id", "kind", "value"),
            merge="event", times=("first_seen", "last_seen"), count="count",
            checks=("seen_order", "ip_link_value"),
        ),
        Table(
            "requests",
            (
                Column("ts", "timestamp", required=True),
                Column("account_id", required=True),
                Column("ip", "ip"),
                Column("api_key"),
                Column("model"),
                Column("input_tokens", "count"),
                Column("output_tokens", "count"),
                # kept as a 64-bit hash (column prompt_hash): the text is read again only per distinct value
                Column("prompt", "digest", trim=False),
                Column("prompt_fingerprint"),
                Column("capability"),
            ),
        ),
        Table(
            "ip_intel",
            (
                Column("network", "network", required=True),
                Column("asn", "asn"),
                Column("as_org"),
                Column("proxy_type", "choice", choices=PROXY_TYPES),
                Column("proxy_network"),
                # what the feeds say besides (IP2Proxy PX3-PX12, MaxMind Country/City); stored on (:IPNetwork)
                Column("feed_type"),  # the feed's own category code, e.g. IP2Proxy's VPN, CPN, EPN
                Column("provider"),
                Column("country", "country"),
                Column("country_name"),
                Column("region"),
                Column("city"),
                Column("isp"),
                Column("domain"),
                Column("usage_type"),
                Column("threat"),
                Column("fraud_score", "count"),
                Column("last_seen", "timestamp", combine="max"),  # e.g. a Tor exit's last ExitAddress time
                Column("last_seen_days", "count"),  # IP2Proxy: days since the proxy was last seen (as of the file)
                Column("latitude", "number"),
                Column("longitude", "number"),
                Column("postal_code"),
            ),
            key=("network",),
            merge="entity",
        ),
        Table(
            "relations",
            (
                Column("account_id", required=True),
                Column("other_account_id", required=True),
                Column("kind", "kind", required=True),
                Column("ts", "timestamp"),
                Column("amount", "number"),
            ),
            key=("account_id", "other_account_id", "kind"),
            merge="event", times=("ts",), sums=("amount",),
        ),
        Table(
            "labels",
            (
                Column("account_id", required=True),
                Column("label", "choice", required=True, choices=("fraud", "benign")),
                Column("source"),
            ),
            key=("account_id",),
            merge="entity",
        ),
    )
}

# Order in which validated tables are written (nodes referenced by later tables first).
WRITE_ORDER = ("ip_intel", "accounts", "links", "relations", "labels", "requests")

# Identifier kinds with their own node label; any other kind becomes (:Identifier {kind}).
TYPED_KINDS = {
    "payment": "PaymentMethod",
    "ip": "IP",
    "device": "Device",
    "email": "Email",
    "phone": "Phone",
    "api_key": "ApiKey",
}

# Exit code of `linkwatch load` when rows or files were rejected (LinkwatchError uses 2).
EXIT_REJECTED = 4

