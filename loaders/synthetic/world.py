"""Assemble a synthetic world and write it as a canonical input bundle (docs/simulator.md).

``generate(config, out_dir)`` is the whole simulator: honest population, campaigns, intel,
links, labels and ground truth, then the requests, streamed chunk by chunk. The same config
(scale, seed, arguments) gives byte-identical files. An evolving world (``periods=2``) is built
once over both periods and written as two cumulative snapshots, filtered by time.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.errors import LinkwatchError

from . import accounts as acc
from .accounts import Accounts, Linkage
from .campaigns import CampaignPlan, build_campaigns, residential_needs
from .config import CHUNK_ROWS, SimulationConfig, iso_utc, stream
from .evolution import DEFAULT_ADVANCE_DAYS, Evolution, plan_evolution
from .fmt import concat, hex_ids, iso_strings
from .network import RESIDENTIAL_PROXIES, AddressPlan, Egress
from .population import build_population
from .prompts import PromptBank
from .sampling import distinct_integers
from .traffic import Traffic, ip_links
from .writer import BundleWriter

# Residential proxy networks carry at least this many exits (or 2 % of the population), and
# 1.5x the largest campaign's need so campaign exits are a subset shared with honest users.
RESIDENTIAL_BASE_EXITS = 2_000
FRAUD_LABELLED_CAMPAIGNS, FRAUD_LABEL_SHARE = 0.7, 0.02  # analysts confirmed a few cases
FRAUD_SOURCES = ["analyst_review", "chargeback", "partner_report"]
BENIGN_LABEL_SHARE, SERVICE_LABEL_SHARE = 0.003, 0.3
STATUS_HONEST, STATUS_CAMPAIGN = [0.97, 0.025, 0.005], [0.96, 0.04, 0.0]


@dataclass
class Summary:
    """What was written, for the CLI and scenario.json."""

    out_dir: Path
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class World:
    """A generated world before it is written.

    A *row* is one account's activity with one setup: a plain world has one row per account; in an
    evolving world (evolution.py) an account that changes setup at T1 has a second row. ``primary`` is
    each row's account (the position of its first row) and ``until`` when the row's activity ends.
    """

    cfg: SimulationConfig  # the whole world (an evolving world spans both periods)
    intel: pa.Table
    bank: PromptBank
    rows: Accounts
    primary: np.ndarray
    until: np.ndarray
    linkage: Linkage
    campaigns: list[CampaignPlan]
    pools: tuple[np.ndarray, np.ndarray, np.ndarray]  # egress (addresses, start, length)


@dataclass
class _Target:
    """One bundle folder and the moment it is a snapshot of (None: everything)."""

    folder: Path
    cut: int | None
    writer: BundleWriter
    counts: dict[str, int] = field(default_factory=dict)
    accounts: Accounts | None = None  # the accounts in the bundle
    requests_by_side: np.ndarray = field(default_factory=lambda: np.zeros(2, np.int64))  # honest, campaign


def generate(cfg: SimulationConfig, out_dir: str | Path, force: bool = False,
             progress: Callable[[str], None] | None = None, periods: int = 1,
             advance_days: int = DEFAULT_ADVANCE_DAYS) -> Summary:
    """Build the world of ``cfg`` and write its bundle to ``out_dir`` (atomically: a temp folder, then rename).

    ``periods=2`` writes an evolving world (evolution.py): ``period-1/`` and ``period-2/`` (cumulative
    snapshots at T1 and ``advance_days`` later) and ``evolution.json``.
    """
    if periods not in (1, 2):
        raise LinkwatchError(f"--periods must be 1 or 2, got {periods}")
    if periods == 2 and cfg.archetypes:
        raise LinkwatchError("--periods 2 applies to --archetypes classic only")
    say = progress or (lambda message: None)
    out = Path(out_dir)
    _check_target(out, force)
    evolution = plan_evolution(cfg, advance_days) if periods == 2 else None
    work = out.with_name(out.name + ".partial")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)

    world = _build(cfg, evolution, say)
    if evolution is None:
        targets = [_Target(work, None, BundleWriter(work, cfg.requests_format))]
    else:
        targets = []
        for number, cut in ((1, evolution.t1), (2, evolution.end)):
            folder = work / f"period-{number}"
            folder.mkdir()
            targets.append(_Target(folder, cut, BundleWriter(folder, cfg.requests_format)))
    document = _write(world, targets, say, evolution)
    for number, target in enumerate(targets, start=1):
        scenario = cfg.describe()
        if evolution is not None:
            scenario.update(end=iso_utc(target.cut), model_release=iso_utc(world.cfg.release_epoch),
                            period={"number": number, "of": periods, "end": iso_utc(target.cut)},
                            evolution={k: v for k, v in document.items() if k != "events"})
        _write_scenario(target, scenario, world)
    if evolution is not None:
        (work / "evolution.json").write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    if out.exists():
        shutil.rmtree(out)
    work.rename(out)
    return Summary(out, targets[-1].counts)


def _build(cfg: SimulationConfig, evolution: Evolution | None, say: Callable[[str], None]) -> World:
    """Population, campaigns and linkage of the whole world (both periods of an evolving one)."""
    world_cfg = evolution.world_config(cfg) if evolution else cfg
    plan = AddressPlan(stream(cfg.seed, "network"))
    bank = PromptBank(stream(cfg.seed, "prompts"))
    egress = Egress()
    needs = residential_needs(world_cfg)
    network_of = [int(i) for i in stream(cfg.seed, "campaign-networks").integers(len(RESIDENTIAL_PROXIES),
                                                                                  size=len(needs))]
    if evolution:
        network_of = evolution.networks(network_of)
    base = max(RESIDENTIAL_BASE_EXITS, world_cfg.accounts // 50)
    networks = plan.residential_networks([
        max(base, int(1.5 * max([n for n, k in zip(needs, network_of) if k == i], default=0)))
        for i in range(len(RESIDENTIAL_PROXIES))])
    honest_count = world_cfg.accounts - sum(world_cfg.campaign_sizes)
    say(f"population: {honest_count} honest accounts")
    honest, linkage = build_population(world_cfg, stream(cfg.seed, "population"), plan, egress, bank, honest_count,
                                       networks)
    say(f"campaigns: {len(world_cfg.campaign_sizes)} ({sum(world_cfg.campaign_sizes)} accounts, "
        f"evasion {cfg.evasion})")
    campaign_block, campaign_links, campaigns = build_campaigns(
        world_cfg, stream(cfg.seed, "campaigns"), plan, egress, bank, networks, network_of, honest_count,
        evolution.lifecycles() if evolution else None)
    rows = Accounts.concat([honest, campaign_block]) if campaign_block is not None else honest
    shifted = campaign_links.shifted(honest_count)
    linkage.links += shifted.links
    linkage.relations += shifted.relations
    primary, until = np.arange(len(rows)), np.full(len(rows), world_cfg.end_epoch, np.int64)
    if evolution:
        rows, primary, until, linkage = evolution.apply(rows, linkage, campaigns, stream(cfg.seed, "evolution"))
    pools = egress.table()
    linkage.links += ip_links(stream(cfg.seed, "ip-links"), world_cfg, rows, *pools).links
    if evolution:
        linkage = evolution.retire(linkage, rows, until)
    return World(world_cfg, plan.intel.table(), bank, rows, primary, until, linkage, campaigns, pools)


def _write(world: World, targets: list[_Target], say: Callable[[str], None], evolution: Evolution | None
           ) -> dict | None:
    """Write every target's tables and stream the requests once into all of them; returns evolution.json."""
    cfg = world.cfg
    people = np.flatnonzero(world.primary == np.arange(len(world.rows)))
    accounts = world.rows.take(people)
    id_rng = stream(cfg.seed, "ids")
    number = id_rng.permutation(len(accounts))
    width = max(7, len(str(len(accounts))))
    account_ids = concat("acc_", pc.utf8_lpad(pa.array(number).cast(pa.string()), width=width, padding="0"))
    api_keys = hex_ids("sk-", id_rng.integers(1, 2**63, len(accounts), dtype=np.uint64), 16)
    status = _status(stream(cfg.seed, "status"), accounts)
    labels = _labels(stream(cfg.seed, "labels"), accounts, status)
    person = np.zeros(len(world.rows), np.int64)
    person[people] = np.arange(len(people))
    person = person[world.primary]  # row -> position in ``accounts``
    row_ids, row_keys = account_ids.take(pa.array(person)), api_keys.take(pa.array(person))
    links = _link_values(world.linkage, stream(cfg.seed, "phones"))
    tables = {
        "accounts": _accounts_table(accounts, account_ids, status),
        "truth": _truth_table(accounts, account_ids, world.campaigns),
        "truth_groups": _groups_table(accounts, account_ids, world.campaigns),
    }
    for t in targets:
        present = None if t.cut is None else pa.array(accounts.created_at <= t.cut)
        t.accounts = accounts if present is None else accounts.take(np.flatnonzero(accounts.created_at <= t.cut))
        w = t.writer
        t.counts = {
            "accounts": w.table("accounts", _present(tables["accounts"], present), "account_id"),
            "links": w.table("links", _links_table(links, row_ids, t.cut), "account_id", "kind", "value"),
            "relations": w.table("relations", _relations_table(world.linkage, row_ids, t.cut), "ts", "account_id"),
            "labels": w.table("labels", _labels_table(labels, account_ids, present), "account_id"),
            "ip_intel": w.table("ip_intel", world.intel, None),
        }
        w.csv("truth", _present(tables["truth"], present), "account_id")
        w.csv("truth_groups", _present(tables["truth_groups"], present), "account_id")

    traffic = Traffic(cfg, world.rows, world.campaigns, world.bank, *world.pools, row_ids, row_keys, world.until)
    order = np.argsort(number[person], kind="stable")  # chunks follow account ids, so files do not group campaigns
    volume = world.rows.n_ordinary[order] + world.rows.n_extract[order]
    chunk_of = np.cumsum(volume) // CHUNK_ROWS
    boundaries = np.flatnonzero(np.diff(chunk_of)) + 1
    requests = 0
    chunks = np.split(order, boundaries)
    for index, positions in enumerate(chunks):
        table = traffic.chunk(stream(cfg.seed, "requests", index), positions)
        side = world.rows.campaign[positions[table["account_id"].combine_chunks().indices.to_numpy()]] >= 0
        for t in targets:
            observed = None if t.cut is None else _observed_by(table["ts"], t.cut)
            kept = table if observed is None else table.filter(observed)
            t.writer.requests(kept)
            t.counts["requests"] = t.counts.get("requests", 0) + kept.num_rows
            mine = side if observed is None else side[observed.to_numpy()]
            t.requests_by_side += np.bincount(mine.astype(np.int64), minlength=2)
        requests += table.num_rows
        say(f"requests: chunk {index + 1}/{len(chunks)}, {requests:,} rows")
    for t in targets:
        t.writer.close()
    return evolution.document(world.campaigns, world.rows, world.primary, row_ids) if evolution else None


def _observed_by(ts: pa.ChunkedArray, cut: int) -> pa.ChunkedArray:
    """Requests at or before ``cut``: ``ts`` is ISO text (CSV) or epoch seconds (Parquet)."""
    return pc.less_equal(ts, iso_utc(cut) if pa.types.is_string(ts.type) else cut)


def _present(table: pa.Table, present: pa.Array | None) -> pa.Table:
    return table if present is None else table.filter(present)


def _check_target(out: Path, force: bool) -> None:
    """Refuse to overwrite anything but an earlier bundle, and that only with force."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        if not force:
            raise LinkwatchError(f"{out} already exists and is not empty: choose another --out or pass --force")
        if not (out / "scenario.json").exists():
            raise LinkwatchError(f"{out} does not look like a simulated bundle (no scenario.json): "
                                 "refusing to replace it; choose another --out")


def _status(rng: np.random.Generator, accounts: Accounts) -> np.ndarray:
    honest = accounts.campaign < 0
    status = np.where(honest, rng.choice(3, len(accounts), p=STATUS_HONEST),
                      rng.choice(3, len(accounts), p=STATUS_CAMPAIGN))
    return status.astype(np.int8)


def _labels(rng: np.random.Generator, accounts: Accounts, status: np.ndarray) -> dict[str, np.ndarray]:
    """A few confirmed cases, as an analyst would have them (confirmed fraud gets banned)."""
    campaign_ids = sorted(set(accounts.campaign[accounts.campaign >= 0].tolist()))
    labelled = [c for c in campaign_ids if rng.random() < FRAUD_LABELLED_CAMPAIGNS] or campaign_ids[:1]
    fraud = []
    for c in labelled:
        members = np.flatnonzero(accounts.campaign == c)
        fraud.append(rng.choice(members, max(1, round(len(members) * FRAUD_LABEL_SHARE)), replace=False))
    fraud = np.concatenate(fraud) if fraud else np.zeros(0, np.int64)
    status[fraud] = 2
    honest = np.flatnonzero(accounts.campaign < 0)
    service = honest[accounts.segment[honest] == 4]
    employees = honest[accounts.segment[honest] == 2]
    # The largest company went through an enterprise contract review: all of it is known benign.
    enterprise = np.zeros(0, np.int64)
    if len(employees):
        groups = accounts.group.take(pa.array(employees))
        sizes = pc.value_counts(groups)
        biggest = sizes.field("values")[int(np.argmax(sizes.field("counts").to_numpy()))]
        enterprise = employees[pc.equal(groups, biggest).to_numpy(zero_copy_only=False)]
    reviewed = honest[rng.random(len(honest)) < BENIGN_LABEL_SHARE]
    contracts = np.concatenate([enterprise, service[rng.random(len(service)) < SERVICE_LABEL_SHARE]])
    reviewed = np.setdiff1d(reviewed, contracts)
    return {
        "account": np.concatenate([fraud, reviewed, contracts]).astype(np.int64),
        "label": np.array(["fraud"] * len(fraud) + ["benign"] * (len(reviewed) + len(contracts))),
        "source": np.concatenate([np.array(FRAUD_SOURCES)[rng.integers(len(FRAUD_SOURCES), size=len(fraud))],
                                  np.full(len(reviewed), "analyst_review"),
                                  np.full(len(contracts), "enterprise_contract")]).astype(str),
    }


def _accounts_table(accounts: Accounts, ids: pa.Array, status: np.ndarray) -> pa.Table:
    return pa.table({
        "account_id": ids,
        "created_at": iso_strings(accounts.created_at),
        "email": accounts.email,
        "org": accounts.org,
        "country": pa.array(acc.COUNTRY_CODES).take(pa.array(accounts.country)),
        "plan": pa.array(acc.PLANS).take(pa.array(accounts.plan.astype(np.int64))),
        "status": pa.array(acc.STATUSES).take(pa.array(status.astype(np.int64))),
    })


def _link_values(linkage: Linkage, phone_rng: np.random.Generator) -> pa.Table:
    """All links with their final values (times still epoch seconds)."""
    links = pa.concat_tables(linkage.links).combine_chunks()
    values = links["value"].combine_chunks()
    # Phones travel as keys until here; every distinct key becomes a distinct fictional number.
    is_phone = pc.equal(links["kind"], "phone").combine_chunks()
    phones = pc.dictionary_encode(pc.filter(values, is_phone))
    numbers = distinct_integers(phone_rng, 10_000_000, len(phones.dictionary))
    text = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width=7, padding="0")
    dialled = concat("+1555", text).take(phones.indices)
    return links.set_column(links.schema.get_field_index("value"), "value",
                            pc.replace_with_mask(values, is_phone, dialled))


def _links_table(links: pa.Table, ids: pa.Array, cut: int | None) -> pa.Table:
    """Links as observed up to ``cut``: first seen by then, last seen and count clipped to it (None: all)."""
    if cut is not None:
        links = links.filter(pc.less_equal(links["first_seen"], cut))
        first, last = links["first_seen"].to_numpy(), links["last_seen"].to_numpy()
        clipped = np.minimum(last, cut)
        # uses spread evenly between first and last seen: keep the share that happened by the cut
        count = np.maximum(1, np.round(links["count"].to_numpy() * (clipped - first + 1) / (last - first + 1)))
        links = links.set_column(links.schema.get_field_index("last_seen"), "last_seen", pa.array(clipped))
        links = links.set_column(links.schema.get_field_index("count"), "count", pa.array(count.astype(np.int64)))
    return pa.table({
        "account_id": ids.take(links["account"]),
        "kind": links["kind"],
        "value": links["value"],
        "first_seen": iso_strings(links["first_seen"].to_numpy()),
        "last_seen": iso_strings(links["last_seen"].to_numpy()),
        "count": links["count"],
    })


def _relations_table(linkage: Linkage, ids: pa.Array, cut: int | None) -> pa.Table:
    relations = pa.concat_tables(linkage.relations)
    if cut is not None:
        relations = relations.filter(pc.less_equal(relations["ts"], cut))
    return pa.table({
        "account_id": ids.take(relations["account"]),
        "other_account_id": ids.take(relations["other"]),
        "kind": relations["kind"],
        "ts": iso_strings(relations["ts"].to_numpy()),
    })


def _labels_table(labels: dict[str, np.ndarray], ids: pa.Array, present: pa.Array | None) -> pa.Table:
    table = pa.table({"account_id": ids.take(pa.array(labels["account"])),
                      "label": pa.array(labels["label"], pa.string()),
                      "source": pa.array(labels["source"], pa.string())})
    return table if present is None else table.filter(present.take(pa.array(labels["account"])))


def _campaign_column(accounts: Accounts, campaigns: list) -> pa.Array:
    names = pa.array([c.campaign_id for c in campaigns] or [""], pa.string())
    mask = pa.array(accounts.campaign < 0)
    return pc.if_else(mask, pa.scalar(None, pa.string()), names.take(pa.array(np.maximum(accounts.campaign, 0)
                                                                             .astype(np.int64))))


def _truth_table(accounts: Accounts, ids: pa.Array, campaigns: list) -> pa.Table:
    kinds = pa.array([c.archetype for c in campaigns] or [""], pa.string())
    archetype = pc.if_else(pa.array(accounts.campaign < 0), pa.scalar(None, pa.string()),
                           kinds.take(pa.array(np.maximum(accounts.campaign, 0).astype(np.int64))))
    return pa.table({"account_id": ids, "campaign_id": _campaign_column(accounts, campaigns),
                     "role": pa.array(acc.ROLES).take(pa.array(accounts.role.astype(np.int64))),
                     "archetype": archetype})


def _groups_table(accounts: Accounts, ids: pa.Array, campaigns: list) -> pa.Table:
    """Honest group (company, household, study group, service org) or campaign of every account."""
    return pa.table({"account_id": ids,
                     "segment": pa.array(acc.SEGMENTS).take(pa.array(accounts.segment.astype(np.int64))),
                     "group_id": pc.coalesce(accounts.group, _campaign_column(accounts, campaigns))})


def _write_scenario(target: _Target, scenario: dict, world: World) -> None:
    """scenario.json: parameters, the campaigns with accounts in the bundle (their sizes in it) and row counts."""
    accounts = target.accounts
    honest = accounts.campaign < 0
    scenario["counts"] = {
        **target.counts,
        "honest_accounts": int(honest.sum()),
        "campaign_accounts": int((~honest).sum()),
        "honest_requests": int(target.requests_by_side[0]),
        "campaign_requests": int(target.requests_by_side[1]),
        "segments": {name: int((accounts.segment == i).sum()) for i, name in enumerate(acc.SEGMENTS)},
    }
    # the moved part of a split campaign is a block of its own but the same campaign: listed once
    sizes = np.bincount(accounts.campaign[~honest], minlength=len(world.campaigns))
    scenario["campaigns"] = [{**c.describe(), "accounts": int(sizes[c.index])}
                             for c in world.campaigns if sizes[c.index]]
    cfg = world.cfg
    scenario["files"] = {
        "requests": "requests.csv" if cfg.requests_format == "csv" else "requests/part-NNNNN.parquet",
        "requests_ts": "ISO-8601 UTC text" if cfg.requests_format == "csv" else "epoch seconds (int64)",
        "prompt": ("text and prompt_fingerprint" if cfg.prompt_text and not cfg.archetypes else
                   "text; prompt_fingerprint only for template requests (product and hydra templates), empty for "
                   "free text and wrapped tasks" if cfg.archetypes else "prompt_fingerprint only"),
    }
    (target.folder / "scenario.json").write_text(json.dumps(scenario, indent=2, sort_keys=True) + "\n")
