"""The canonical bundle tables, their columns and validation rules, and the loader's named settings.

One table of facts drives reading (which columns are known), validation (which rule
each value must pass) and de-duplication (which columns form the key).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    """A bundle column: ``rule`` names the check in loaders/validate.py."""

    name: str
    rule: str = "text"  # text | lower | digest | timestamp | ip | network | kind | count | country | asn | choice
    required: bool = False
    choices: tuple[str, ...] = ()
    trim: bool = True  # strip surrounding spaces (not for long free text, where it costs a copy of every value)


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # rows sharing a key must agree on every other column
    checks: tuple[str, ...] = field(default=())  # cross-column checks (validate.CROSS_CHECKS)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


PROXY_TYPES = ("none", "vpn", "datacenter", "residential", "tor", "hosting",
               # IP2Proxy's further categories (PUB, WEB, SES), kept distinct rather than folded into the six above
               "public_proxy", "web_proxy", "search_engine")

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
            ),
            key=("network",),
        ),
        Table(
            "relations",
            (
                Column("account_id", required=True),
                Column("other_account_id", required=True),
                Column("kind", "kind", required=True),
                Column("ts", "timestamp"),
            ),
            key=("account_id", "other_account_id", "kind"),
        ),
        Table(
            "labels",
            (
                Column("account_id", required=True),
                Column("label", "choice", required=True, choices=("fraud", "benign")),
                Column("source"),
            ),
            key=("account_id",),
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

