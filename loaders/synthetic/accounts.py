"""Account-level containers shared by the honest population and the campaigns.

Columns stay numeric (codes into the name lists below) until the writer turns them into
strings; links and relations refer to accounts by position until then.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import pyarrow as pa

ROLES = ["benign", "operator_account", "reseller_front"]
SEGMENTS = ["individual", "household", "employee", "student", "power_user", "campaign"]
PLANS = ["free", "plus", "pro", "team", "enterprise", "api_payg"]
STATUSES = ["active", "suspended", "banned"]
# Activity profiles: daily/weekly rhythm (traffic.py) and session length.
WORK, PERSONAL, STUDENT, SERVICE = range(4)

# (country, share of accounts, UTC offsets its users live in). Shares loosely follow public
# traffic rankings of AI assistants; offsets are standard time (DST ignored, a 1 h blur).
COUNTRIES = [
    ("US", 0.28, (-8, -7, -6, -5, -5, -5)), ("IN", 0.10, (5.5,)), ("GB", 0.06, (0,)), ("DE", 0.05, (1,)),
    ("BR", 0.05, (-3,)), ("FR", 0.04, (1,)), ("JP", 0.04, (9,)), ("CA", 0.03, (-8, -5, -5)),
    ("KR", 0.03, (9,)), ("ID", 0.03, (7,)), ("MX", 0.03, (-6,)), ("AU", 0.02, (10, 8)), ("ES", 0.02, (1,)),
    ("IT", 0.02, (1,)), ("NL", 0.02, (1,)), ("PL", 0.02, (1,)), ("NG", 0.02, (1,)), ("TR", 0.02, (3,)),
    ("VN", 0.02, (7,)), ("PH", 0.02, (8,)), ("SG", 0.02, (8,)), ("SE", 0.01, (1,)), ("CH", 0.01, (1,)),
    ("IL", 0.01, (2,)), ("AR", 0.01, (-3,)), ("ZA", 0.01, (2,)), ("EG", 0.01, (2,)), ("TW", 0.01, (8,)),
]
COUNTRY_CODES = [c for c, _, _ in COUNTRIES]
COUNTRY_SHARE = np.array([s for _, s, _ in COUNTRIES]) / sum(s for _, s, _ in COUNTRIES)


def draw_countries(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(country code index, UTC offset in hours) per account."""
    country = rng.choice(len(COUNTRIES), size, p=COUNTRY_SHARE)
    return country, country_offsets(rng, country)


def country_offsets(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    """A UTC offset for each account, drawn among its country's time zones."""
    widest = max(len(z) for _, _, z in COUNTRIES)
    table = np.array([[z[i % len(z)] for i in range(widest)] for _, _, z in COUNTRIES], dtype=np.float32)
    return table[country, rng.integers(widest, size=len(country))]


@dataclass
class Accounts:
    """One row per account. Strings are Arrow arrays; codes index the lists above."""

    created_at: np.ndarray  # epoch seconds
    email: pa.Array
    org: pa.Array  # null = not filled in
    country: np.ndarray
    plan: np.ndarray
    tz: np.ndarray  # UTC offset (hours) the account's ordinary activity follows
    profile: np.ndarray
    persona: np.ndarray  # capability mix of ordinary traffic (prompts.PromptBank.persona_mix row)
    n_ordinary: np.ndarray  # requests that look like ordinary use
    n_extract: np.ndarray  # extraction requests (campaign accounts only)
    campaign: np.ndarray  # -1 = honest
    role: np.ndarray
    segment: np.ndarray
    group: pa.Array  # honest group the account belongs to (company-..., household-...), for truth
    pool_primary: np.ndarray  # egress pool ids (network.Egress), -1 = none
    pool_mobile: np.ndarray
    pool_anon: np.ndarray
    p_mobile: np.ndarray  # share of requests leaving through the mobile pool
    p_anon: np.ndarray  # share of requests leaving through the anonymiser pool (VPN, proxy, DC)
    adopt_delay_days: np.ndarray  # days after the model release before the account uses it (inf = never)
    active_from: np.ndarray  # epoch seconds: first moment the account may send requests

    def __len__(self) -> int:
        return len(self.created_at)

    @staticmethod
    def concat(parts: list["Accounts"]) -> "Accounts":
        values = {}
        for f in fields(Accounts):
            columns = [getattr(p, f.name) for p in parts]
            if isinstance(columns[0], (pa.Array, pa.ChunkedArray)):
                values[f.name] = pa.concat_arrays([c if isinstance(c, pa.Array) else c.combine_chunks()
                                                   for c in columns])
            else:
                values[f.name] = np.concatenate(columns)
        return Accounts(**values)

    def take(self, positions: np.ndarray) -> "Accounts":
        """The rows at ``positions`` (in that order)."""
        index = pa.array(np.asarray(positions, dtype=np.int64))
        return Accounts(**{f.name: (getattr(self, f.name).take(index)
                                    if isinstance(getattr(self, f.name), (pa.Array, pa.ChunkedArray))
                                    else getattr(self, f.name)[np.asarray(positions, dtype=np.int64)])
                           for f in fields(Accounts)})


@dataclass
class Linkage:
    """links (account -> identifier) and relations (account -> account), by account position."""

    links: list[pa.Table] = field(default_factory=list)
    relations: list[pa.Table] = field(default_factory=list)

    def link(self, kind: str, account: np.ndarray, value: pa.Array, first_seen: np.ndarray,
             last_seen: np.ndarray, count: np.ndarray) -> None:
        self.links.append(pa.table({
            "account": pa.array(np.asarray(account, dtype=np.int64)),
            "kind": pa.array(np.full(len(account), kind)),
            "value": value,
            "first_seen": pa.array(np.asarray(first_seen, dtype=np.int64)),
            "last_seen": pa.array(np.asarray(last_seen, dtype=np.int64)),
            "count": pa.array(np.asarray(count, dtype=np.int64)),
        }))

    def relate(self, kind: str, account: np.ndarray, other: np.ndarray, ts: np.ndarray) -> None:
        self.relations.append(pa.table({
            "account": pa.array(np.asarray(account, dtype=np.int64)),
            "other": pa.array(np.asarray(other, dtype=np.int64)),
            "kind": pa.array(np.full(len(account), kind)),
            "ts": pa.array(np.asarray(ts, dtype=np.int64)),
        }))

    def shifted(self, offset: int) -> "Linkage":
        """The same linkage with account positions moved by ``offset`` (when blocks are concatenated)."""
        def shift(table: pa.Table, columns: tuple[str, ...]) -> pa.Table:
            for name in columns:
                position = table.schema.get_field_index(name)
                table = table.set_column(position, name, pa.array(table[name].to_numpy() + offset))
            return table
        return Linkage([shift(t, ("account",)) for t in self.links],
                       [shift(t, ("account", "other")) for t in self.relations])
