"""A synthetic peer-to-peer payment-platform export: users, cards, devices, transfers, referrals, and chargeback
labels held aside.

It is a test bed for per-account risk ranking (``bench/bench_risk.py``), shaped like a real anonymised P2P
export where fraud is *not* cleanly clustered: some fraud rings share cards and devices, most fraudsters are
loners with a few (stolen) cards, honest households share a card, honest users own several cards too, a few
identifiers are shared by hundreds of strangers (an emulator's default device id, a prepaid card programme),
and the labels are chargebacks (most fraudsters get one, a few honest users dispute a payment too). Every
proportion below is a parameter of ``P2PConfig``; the defaults put the single-feature baselines near those
measured on the real export (cards per user AUC ≈ 0.7, shared-identifier degree ≈ 0.64, component size ≈ 0.63).

Output (CSV bundle, see docs/simulator.md): ``accounts.csv``, ``links.csv`` (``payment``, ``device``),
``relations.csv`` (``transfer`` rows repeated per payment with ``ts`` and ``amount``; ``referred``), and, held
aside (not bundle tables): ``heldout_labels.csv`` (``account_id,label,role,group``: label ``fraud`` = a
chargeback), ``scenario.json``.
"""
from __future__ import annotations

import csv
import json
import shutil
import zlib
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from graph.errors import LinkwatchError

START = datetime(2017, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class P2PConfig:
    seed: int = 1
    users: int = 30_000
    days: int = 365
    fraud_share: float = 0.04           # fraudsters among users
    ring_share: float = 0.45            # of fraudsters, the share operating in rings
    ring_size: tuple[int, int] = (3, 12)
    # cards: 1 + Poisson(mean) own cards
    honest_extra_cards: float = 0.55
    loner_extra_cards: float = 1.8
    ring_extra_cards: float = 1.0
    ring_pool_use: float = 0.7          # chance a ring member uses the ring's card pool (1-2 of its cards)
    ring_device_use: float = 0.6        # chance a ring member uses the ring's device pool
    loner_card_resale: float = 0.25     # chance a loner's stolen card was also sold to another loner
    honest_extra_devices: float = 0.3
    fraud_extra_devices: float = 0.8
    household_sizes: tuple[float, ...] = (0.55, 0.2, 0.12, 0.08, 0.05)  # P(size 1..5)
    household_card: float = 0.4         # multi-person household sharing a card
    household_device: float = 0.25
    emulator_honest: float = 0.01       # users on an emulator's default device id (one value, hundreds of users)
    emulator_fraud: float = 0.08
    prepaid_programmes: int = 3         # prepaid/virtual card values shared by many unrelated users
    prepaid_users: tuple[int, int] = (40, 400)
    friends: float = 2.0                # mean transfer partners per honest user (Poisson)
    transfers_per_pair: float = 3.0     # mean extra repeated transfers per pair (1 + Poisson)
    fraud_victims: float = 1.5          # mean honest counterparties per fraudster
    referral_honest: float = 0.25
    referral_ring: float = 0.6
    chargeback_fraud: float = 0.8       # fraudsters that get a chargeback label
    chargeback_honest: float = 0.008    # honest users with a (friendly-fraud) chargeback


@dataclass
class P2PSummary:
    out_dir: Path
    counts: dict[str, int]


def _rng(seed: int, component: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(component.encode())]))


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hexes(rng: np.random.Generator, n: int, prefix: str) -> list[str]:
    values = rng.integers(0, 2**48, size=n, dtype=np.int64)
    return [f"{prefix}{v:012x}" for v in values]


def build(cfg: P2PConfig) -> dict:
    """The world as plain Python rows: {accounts, links, relations, labels}."""
    rng = _rng(cfg.seed, "p2p")
    n = cfg.users
    ids = [f"u{v:07d}" for v in rng.permutation(n) + 1]
    created = [START + timedelta(seconds=float(s)) for s in rng.uniform(0, cfg.days * 0.8 * 86400, n)]
    n_fraud = int(round(n * cfg.fraud_share))
    fraud = np.zeros(n, dtype=bool)
    fraud[rng.choice(n, n_fraud, replace=False)] = True
    fraud_idx = np.flatnonzero(fraud)
    rng.shuffle(fraud_idx)
    role = np.array(["honest"] * n, dtype=object)
    group = [""] * n

    # rings first, the rest of the fraudsters are loners
    rings: list[list[int]] = []
    n_ring = int(round(len(fraud_idx) * cfg.ring_share))
    pos = 0
    while pos < n_ring:
        size = min(int(rng.integers(cfg.ring_size[0], cfg.ring_size[1] + 1)), n_ring - pos)
        if size < 2:
            break
        rings.append([int(x) for x in fraud_idx[pos:pos + size]])
        pos += size
    for r, members in enumerate(rings):
        for m in members:
            role[m], group[m] = "ring", f"ring-{r:03d}"
    loners = [int(x) for x in fraud_idx if role[x] != "ring"]
    for m in loners:
        role[m] = "loner"

    # honest households
    honest = [int(x) for x in rng.permutation(np.flatnonzero(~fraud))]
    households: list[list[int]] = []
    sizes = np.arange(1, len(cfg.household_sizes) + 1)
    pos = 0
    while pos < len(honest):
        size = int(rng.choice(sizes, p=np.array(cfg.household_sizes) / sum(cfg.household_sizes)))
        households.append(honest[pos:pos + size])
        pos += size
    for h, members in enumerate(households):
        if len(members) > 1:
            for m in members:
                group[m] = f"household-{h:05d}"

    cards: list[set[str]] = [set() for _ in range(n)]
    devices: list[set[str]] = [set() for _ in range(n)]
    extra_cards = np.where(role == "honest", cfg.honest_extra_cards,
                           np.where(role == "loner", cfg.loner_extra_cards, cfg.ring_extra_cards)).astype(float)
    own_cards = 1 + rng.poisson(extra_cards)
    card_values = iter(_hexes(rng, int(own_cards.sum()) + 10 * n, "card_"))
    for u in range(n):
        for _ in range(int(own_cards[u])):
            cards[u].add(next(card_values))
    own_devices = 1 + rng.poisson(np.where(fraud, cfg.fraud_extra_devices, cfg.honest_extra_devices))
    device_values = iter(_hexes(rng, int(own_devices.sum()) + 10 * n, "dev_"))
    for u in range(n):
        for _ in range(int(own_devices[u])):
            devices[u].add(next(device_values))

    for members in households:
        if len(members) > 1 and rng.random() < cfg.household_card:
            card = next(card_values)
            for m in rng.choice(members, int(rng.integers(2, len(members) + 1)), replace=False):
                cards[int(m)].add(card)
        if len(members) > 1 and rng.random() < cfg.household_device:
            device = next(device_values)
            for m in rng.choice(members, 2, replace=False):
                devices[int(m)].add(device)
    for members in rings:
        card_pool = [next(card_values) for _ in range(max(1, len(members) // 3))]
        device_pool = [next(device_values) for _ in range(max(1, len(members) // 4))]
        for m in members:
            if rng.random() < cfg.ring_pool_use:
                for card in rng.choice(card_pool, min(len(card_pool), int(rng.integers(1, 3))), replace=False):
                    cards[m].add(str(card))
            if rng.random() < cfg.ring_device_use:
                devices[m].add(str(rng.choice(device_pool)))
    for m in loners:  # a stolen card sold twice: two unrelated fraudsters share it
        if rng.random() < cfg.loner_card_resale:
            other = int(rng.choice(loners))
            if other != m:
                cards[other].add(next(iter(sorted(cards[m]))))
    emulator = "dev_000000000000"
    for u in np.flatnonzero(rng.random(n) < np.where(fraud, cfg.emulator_fraud, cfg.emulator_honest)):
        devices[int(u)].add(emulator)
    for p in range(cfg.prepaid_programmes):
        value = f"card_prepaid{p:07d}"
        for u in rng.choice(n, int(rng.integers(cfg.prepaid_users[0], cfg.prepaid_users[1] + 1)), replace=False):
            cards[int(u)].add(value)

    # transfers: repeated payments between friends (nearby in a shuffled "social" order), households, rings
    social = rng.permutation(n)
    place = np.empty(n, dtype=np.int64)
    place[social] = np.arange(n)
    pairs: set[tuple[int, int]] = set()
    honest_arr = np.flatnonzero(~fraud)
    for u in range(n):
        k = int(rng.poisson(cfg.friends if not fraud[u] else cfg.friends / 2))
        for _ in range(k):
            v = int(social[(place[u] + int(rng.integers(-50, 51))) % n])
            if v != u:
                pairs.add((u, v))
    for members in households:
        for a in members[1:]:
            pairs.add((a, members[0]))
    for members in rings:
        collector = members[0]
        for m in members[1:]:
            pairs.add((m, collector))
    for u in fraud_idx:
        for v in rng.choice(honest_arr, int(rng.poisson(cfg.fraud_victims)), replace=False):
            pairs.add((int(v), int(u)) if rng.random() < 0.5 else (int(u), int(v)))
    end = START + timedelta(days=cfg.days)
    ordered = sorted(pairs)
    repeats = 1 + rng.poisson(cfg.transfers_per_pair, len(ordered))
    offsets = rng.uniform(0, 1, int(repeats.sum()))
    amounts = np.round(np.exp(rng.normal(3.5, 1.0, int(repeats.sum()))), 2)
    transfers, k = [], 0
    for (a, b), r in zip(ordered, repeats):
        begin = max(created[a], created[b])
        span = (end - begin).total_seconds()
        for t in sorted(offsets[k:k + r]):
            transfers.append((ids[a], ids[b], "transfer", _iso(begin + timedelta(seconds=float(t * span))),
                              f"{amounts[k]:.2f}"))
            k += 1

    # referrals: ring members referred by the ring's first member, others now and then by a friend
    referrals = []
    for members in rings:
        for m in members[1:]:
            if rng.random() < cfg.referral_ring:
                referrals.append((ids[members[0]], ids[m], "referred", _iso(created[m]), ""))
    for u in range(n):
        if role[u] != "ring" and rng.random() < cfg.referral_honest:
            v = int(social[(place[u] + int(rng.integers(-50, 51))) % n])
            if v != u:
                referrals.append((ids[v], ids[u], "referred", _iso(created[u]), ""))

    chargeback = rng.random(n) < np.where(fraud, cfg.chargeback_fraud, cfg.chargeback_honest)
    links = []
    for u in range(n):
        first = created[u]
        for kind, values in (("payment", cards[u]), ("device", devices[u])):
            for value in sorted(values):
                seen = first + timedelta(seconds=float(rng.uniform(0, (end - first).total_seconds() * 0.5)))
                links.append((ids[u], kind, value, _iso(seen), _iso(end - timedelta(seconds=float(
                    rng.uniform(0, (end - seen).total_seconds() * 0.5)))), str(1 + int(rng.poisson(4)))))
    accounts = [(ids[u], _iso(created[u]), "active") for u in range(n)]
    labels = [(ids[u], "fraud" if chargeback[u] else "benign", str(role[u]), group[u]) for u in range(n)]
    return {"accounts": accounts, "links": links, "relations": transfers + referrals, "labels": labels,
            "rings": len(rings), "fraudsters": int(fraud.sum())}


def _write(path: Path, header: list[str], rows) -> int:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        count = 0
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def distinct_pairs(relations: list[tuple]) -> list[tuple]:
    """One row per (account, other account, kind): the first payment's time, the amounts summed.

    For loaders that reject repeated relation keys; the repeated rows are the realistic export.
    """
    merged: dict[tuple, list] = {}
    for a, b, kind, ts, amount in sorted(relations, key=lambda r: (r[0], r[1], r[2], r[3])):
        row = merged.setdefault((a, b, kind), [a, b, kind, ts, 0.0 if amount else ""])
        if amount:
            row[4] += float(amount)
    return [(a, b, k, ts, f"{amount:.2f}" if amount != "" else "") for a, b, k, ts, amount in merged.values()]


def generate(cfg: P2PConfig, out: str | Path, force: bool = False, repeated: bool = True) -> P2PSummary:
    """Write the bundle to ``out`` (absent or empty; ``force`` replaces an earlier P2P bundle)."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not (force and (out / "scenario.json").exists()):
            raise LinkwatchError(f"{out}: not empty (use --force to replace an earlier simulated bundle)")
        shutil.rmtree(out)
    partial = out.with_name(out.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    world = build(cfg)
    relations = world["relations"] if repeated else distinct_pairs(world["relations"])
    counts = {
        "accounts": _write(partial / "accounts.csv", ["account_id", "created_at", "status"], world["accounts"]),
        "links": _write(partial / "links.csv", ["account_id", "kind", "value", "first_seen", "last_seen", "count"],
                        world["links"]),
        "relations": _write(partial / "relations.csv", ["account_id", "other_account_id", "kind", "ts", "amount"],
                            relations),
        "heldout_labels": _write(partial / "heldout_labels.csv", ["account_id", "label", "role", "group"],
                                 world["labels"]),
    }
    counts["fraudsters"], counts["rings"] = world["fraudsters"], world["rings"]
    counts["chargebacks"] = sum(1 for row in world["labels"] if row[1] == "fraud")
    (partial / "scenario.json").write_text(json.dumps({
        "kind": "p2p", "parameters": asdict(cfg), "repeated_transfers": repeated, "start": _iso(START),
        "counts": counts}, indent=2) + "\n", encoding="utf-8")
    partial.rename(out)
    return P2PSummary(out, counts)
