"""Evolving worlds (``linkwatch simulate --periods 2``): campaigns that grow, split, merge and appear.

The world spans period 1 (the scale's days) plus ``advance_days``. At T1, the end of period 1:

* **grow**: one campaign creates 50 % more accounts in a burst after T1, on its own card pool, proxy
  exits and templates (campaigns.Lifecycle.late_accounts);
* **split**: 40 % of one campaign's accounts move to entirely new infrastructure (a second campaign
  block: new cards, devices, phones, billing mailbox, another residential network, new cloud blocks,
  a new template family) and stop using every old shared identifier; 60 % keep the old setup;
* **merge**: the smallest campaign moves onto the largest one's infrastructure (cards, devices,
  phones, mailbox, egress pools and job plan of random members of the same role) and stops using its own;
* **new**: a campaign of the median size is born after T1;
* everything else continues.

An account that changes setup is two *rows*: its old row ends at T1 (``until``), a new row (``primary``
names the old one) carries its activity afterwards. Evidence of the old setup is last seen at T1, so a
detector that only counts the last ``WINDOW_DAYS`` days sees the new shape in period 2.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.errors import LinkwatchError

from .accounts import Accounts, Linkage
from .campaigns import CampaignPlan, Lifecycle
from .config import SimulationConfig, iso_utc, stream
from .network import RESIDENTIAL_PROXIES

DEFAULT_ADVANCE_DAYS = 14
WINDOW_DAYS = 7  # the detection window the expectations assume (linkwatch detect --window-days 7)
GROWTH = 0.5  # the grown campaign adds this share of its accounts
# Share of the split campaign that moves. Not a half: with unequal parts the part that keeps the
# infrastructure is unambiguously the one that continues the campaign (lineage matches the largest overlap).
MOVED_SHARE = 0.4
# Links that are infrastructure an account stops using when it moves (its own e-mail address stays).
SHARED_KINDS = ("payment", "device", "phone", "email", "ip")


@dataclass(frozen=True)
class Evolution:
    """What happens at T1, by campaign index (0-based, as in the configuration)."""

    days: int  # length of period 1
    advance_days: int
    start_epoch: int
    grow: int
    split: int
    merge: tuple[int, int]  # (the larger, which continues; the smaller, which is absorbed)
    unchanged: tuple[int, ...]
    growth: int  # accounts the grown campaign adds
    moved: int  # accounts of the split campaign that move
    new_size: int
    new_target: int  # requests per account of the new campaign

    @property
    def t1(self) -> int:
        return self.start_epoch + self.days * 86_400

    @property
    def end(self) -> int:
        return self.t1 + self.advance_days * 86_400

    @property
    def new_index(self) -> int:
        return len(self.unchanged) + 4

    @property
    def fleet_index(self) -> int:
        """The campaign block that holds the split's moved accounts after T1 (rows, not new accounts)."""
        return self.new_index + 1

    def world_config(self, cfg: SimulationConfig) -> SimulationConfig:
        """The whole world: both periods, the grown campaign's extra accounts, the new campaign and the fleet."""
        sizes = list(cfg.campaign_sizes)
        sizes[self.grow] += self.growth
        targets = cfg.campaign_requests_per_account
        return replace(cfg, days=self.days + self.advance_days,
                       accounts=cfg.accounts + self.growth + self.new_size + self.moved,
                       campaign_sizes=(*sizes, self.new_size, self.moved),
                       campaign_requests_per_account=(*targets, self.new_target, targets[self.split]))

    def lifecycles(self) -> list[Lifecycle]:
        period_1, period_2 = (0, self.days), (self.days, self.days + self.advance_days)
        originals = [Lifecycle(period_1, self.growth if i == self.grow else 0) for i in range(self.new_index)]
        return [*originals, Lifecycle(period_2), Lifecycle(period_2, resold=False)]

    def networks(self, network_of: list[int]) -> list[int]:
        """Residential network per campaign block: the moved fleet leaves its campaign's network."""
        chosen = list(network_of)
        chosen[self.fleet_index] = (chosen[self.split] + 1) % len(RESIDENTIAL_PROXIES)
        return chosen

    def apply(self, rows: Accounts, linkage: Linkage, campaigns: list[CampaignPlan], rng: np.random.Generator
              ) -> tuple[Accounts, np.ndarray, np.ndarray, Linkage]:
        """Turn the generated blocks into account rows that change setup at T1.

        Returns (rows, primary, until, linkage): ``primary`` is each row's account (its first row),
        ``until`` when the row's activity ends.
        """
        n = len(rows)
        primary, until = np.arange(n), np.full(n, self.end, np.int64)
        campaigns[self.fleet_index].campaign_id = campaigns[self.split].campaign_id

        # split: a random MOVED_SHARE of the campaign (reseller fronts and operator accounts alike: a role
        # boundary is no split) continues as the fleet block's rows
        leaving = np.sort(rng.choice(np.flatnonzero(rows.campaign == self.split), self.moved, replace=False))
        fleet = np.flatnonzero(rows.campaign == self.fleet_index)
        primary[fleet], until[leaving] = leaving, self.t1
        rows.tz[fleet], rows.persona[fleet] = rows.tz[leaving], rows.persona[leaving]
        self._hand_over(rows, leaving, fleet, campaigns[self.split])
        # the fleet block's own e-mail addresses and invitations belong to no real account
        own_email = _own_email(linkage, rows)
        links = [t.filter(pc.invert(pc.and_(own, pa.array(np.isin(t["account"].to_numpy(), fleet)))))
                 for t, own in zip(linkage.links, own_email)]
        relations = [t.filter(pa.array(~np.isin(t["account"].to_numpy(), fleet) & ~np.isin(t["other"].to_numpy(), fleet)))
                     for t in linkage.relations]

        # merge: every account of the smaller campaign takes over the setup of a random member of the larger
        larger, smaller = self.merge
        absorbed = np.flatnonzero(rows.campaign == smaller)
        donors = _donors(rng, rows, absorbed, np.flatnonzero(rows.campaign == larger))
        joined = rows.take(absorbed)
        joined.created_at = self.t1 + 1 + (rng.random(len(absorbed)) * 86_400).astype(np.int64)
        joined.active_from = joined.created_at.copy()
        joined.campaign = np.full(len(absorbed), larger, np.int16)
        for name in ("pool_primary", "pool_mobile", "pool_anon", "p_mobile", "p_anon"):
            setattr(joined, name, getattr(rows, name)[donors])
        merged_rows = np.arange(n, n + len(absorbed))
        rows = Accounts.concat([rows, joined])
        primary, until = np.concatenate([primary, absorbed]), np.concatenate([until, np.full(len(absorbed), self.end)])
        until[absorbed] = self.t1
        self._hand_over(rows, absorbed, merged_rows, campaigns[smaller])
        links.append(_copied_links(Linkage(links), rows, donors, merged_rows))
        return rows, primary, until, Linkage(links, relations)

    def _hand_over(self, rows: Accounts, old: np.ndarray, new: np.ndarray, plan: CampaignPlan) -> None:
        """Split each moving account's requests: the old row keeps what falls before T1, the new row the rest.

        Extraction follows the campaign's day-level intensity, ordinary use the time share.
        """
        cum = np.concatenate([[0.0], np.cumsum(plan.day_intensity)])
        first_day = (rows.active_from[old] - self.start_epoch) // 86_400
        total = cum[-1] - cum[first_day]
        extract_share = np.where(total > 0, (cum[self.days] - cum[first_day]) / np.where(total > 0, total, 1), 1.0)
        time_share = (self.t1 - rows.active_from[old]) / (self.end - rows.active_from[old])
        for name, share in (("n_extract", extract_share), ("n_ordinary", time_share)):
            counts = getattr(rows, name)
            before = np.round(counts[old] * np.clip(share, 0, 1)).astype(np.int64)
            counts[new] = counts[old] - before
            counts[old] = before

    def retire(self, linkage: Linkage, rows: Accounts, until: np.ndarray) -> Linkage:
        """Old setups end at T1: shared identifiers of rows that end are last seen then (own e-mail excepted)."""
        links = []
        for table, own in zip(linkage.links, _own_email(linkage, rows)):
            end = until[table["account"].to_numpy()]
            shared = np.isin(table["kind"].to_numpy(zero_copy_only=False), SHARED_KINDS) & ~own.to_numpy(
                zero_copy_only=False)
            last = table["last_seen"].to_numpy()
            last = np.where(shared, np.minimum(last, end), last)
            first = np.minimum(table["first_seen"].to_numpy(), last)
            table = table.set_column(table.schema.get_field_index("last_seen"), "last_seen", pa.array(last))
            links.append(table.set_column(table.schema.get_field_index("first_seen"), "first_seen", pa.array(first)))
        return Linkage(links, linkage.relations)

    def document(self, campaigns: list[CampaignPlan], rows: Accounts, primary: np.ndarray, row_ids: pa.Array) -> dict:
        """evolution.json: what a correct detector reports on period 2 after period 1 (both windowed)."""
        people = primary == np.arange(len(rows))
        name = [c.campaign_id for c in campaigns]

        def size(index: int, by: int | None = None) -> int:
            mine = people & (rows.campaign == index)
            return int((mine & (rows.created_at <= by)).sum() if by else mine.sum())

        def ids(positions: np.ndarray) -> list[str]:
            return sorted(row_ids.take(pa.array(positions)).to_pylist())

        def counts(index: int) -> dict:
            return {"accounts_before": size(index, self.t1), "accounts_after": size(index)}

        members = np.flatnonzero(people & (rows.campaign == self.split))
        moved = np.unique(primary[rows.campaign == self.fleet_index])  # the accounts whose rows continue in the fleet
        kept = np.setdiff1d(members, moved)
        larger, smaller = self.merge
        events = [{"campaign": name[self.grow], "event": "grown", **counts(self.grow)},
                  {"campaign": name[self.split], "event": "split", **counts(self.split),
                   "halves": [{"event": "shrunk", "infrastructure": "kept", "accounts": ids(kept)},
                              {"event": "split", "infrastructure": "new", "related": name[self.split],
                               "accounts": ids(moved)}]},
                  {"campaigns": [name[larger], name[smaller]], "event": "merged", "continues": name[larger],
                   "ended": name[smaller], "accounts_before": {name[larger]: size(larger, self.t1),
                                                               name[smaller]: size(smaller, self.t1)},
                   "accounts_after": size(larger) + size(smaller)},
                  {"campaign": name[self.new_index], "event": "new", **counts(self.new_index)},
                  *({"campaign": name[i], "event": "unchanged", **counts(i)} for i in self.unchanged)]
        return {"t1": iso_utc(self.t1), "end": iso_utc(self.end), "advance_days": self.advance_days,
                "window_days": WINDOW_DAYS, "periods": ["period-1", "period-2"],
                "events": sorted(events, key=lambda e: e.get("campaign") or e["continues"])}


def plan_evolution(cfg: SimulationConfig, advance_days: int) -> Evolution:
    """Choose who grows, splits, merges (by size: deterministic) and size the changes."""
    sizes = cfg.campaign_sizes
    if len(sizes) < 4:
        raise LinkwatchError(f"--periods 2 needs at least 4 campaigns (one grows, one splits, two merge), "
                             f"got {len(sizes)}: raise --campaigns")
    if advance_days <= WINDOW_DAYS:
        raise LinkwatchError(f"--advance-days must be more than the {WINDOW_DAYS}-day detection window "
                             f"(or old evidence would still count), got {advance_days}")
    if min(sizes) < 2:
        raise LinkwatchError(f"--periods 2 needs campaigns of at least 2 accounts, got sizes {list(sizes)}")
    by_size = sorted(range(len(sizes)), key=lambda i: (sizes[i], i))
    split = by_size[-2]
    return Evolution(
        days=cfg.days, advance_days=advance_days, start_epoch=cfg.start_epoch, grow=by_size[-3], split=split,
        merge=(by_size[-1], by_size[0]), unchanged=tuple(sorted(by_size[1:-3])),
        growth=max(1, round(GROWTH * sizes[by_size[-3]])),
        moved=min(sizes[split] - 1, max(1, round(MOVED_SHARE * sizes[split]))),
        new_size=int(round(float(np.median(sizes)))),
        new_target=int(stream(cfg.seed, "evolution-targets").integers(700, 1_100)))


def _own_email(linkage: Linkage, rows: Accounts) -> list[pa.Array]:
    """Per link table: which rows are the account's own e-mail address (not a shared billing mailbox)."""
    return [pc.and_(pc.equal(t["kind"], "email"), pc.equal(t["value"], rows.email.take(t["account"])))
            .combine_chunks() for t in linkage.links]


def _donors(rng: np.random.Generator, rows: Accounts, absorbed: np.ndarray, members: np.ndarray) -> np.ndarray:
    """A random member of the larger campaign per absorbed account, of the same role when there is one."""
    donors = members[rng.integers(len(members), size=len(absorbed))]
    for role in np.unique(rows.role[absorbed]):
        same = members[rows.role[members] == role]
        mine = rows.role[absorbed] == role
        if len(same):
            donors[mine] = same[rng.integers(len(same), size=int(mine.sum()))]
    return donors


def _copied_links(linkage: Linkage, rows: Accounts, donors: np.ndarray, takers: np.ndarray) -> pa.Table:
    """The donors' shared identifiers (cards, devices, phones, mailboxes) for the rows ``takers``, from their creation."""
    kinds = pa.array(["payment", "device", "phone", "email"])
    shared = pa.concat_tables([t.filter(pc.and_(pc.invert(own), pc.is_in(t["kind"], kinds)))
                               for t, own in zip(linkage.links, _own_email(linkage, rows))])
    account = shared["account"].to_numpy()
    order = np.argsort(account, kind="stable")
    lo = np.searchsorted(account[order], donors, "left")
    hi = np.searchsorted(account[order], donors, "right")
    per_row = hi - lo
    offsets = np.arange(per_row.sum()) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    copied = shared.take(pa.array(order[np.repeat(lo, per_row) + offsets]))
    first = np.repeat(rows.created_at[takers], per_row)
    return pa.table({"account": pa.array(np.repeat(takers, per_row)), "kind": copied["kind"], "value": copied["value"],
                     "first_seen": pa.array(first),
                     "last_seen": pa.array(np.maximum(copied["last_seen"].to_numpy(), first)),
                     "count": pa.array(np.ones(len(first), np.int64))})
