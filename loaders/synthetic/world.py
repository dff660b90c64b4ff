"""Assemble a synthetic world and write it as a canonical input bundle (docs/simulator.md).

``generate(config, out_dir)`` is the whole simulator: honest population, campaigns, intel,
links, labels and ground truth, then the requests, streamed chunk by chunk. The same config
(scale, seed, arguments) gives byte-identical files.
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
from .campaigns import build_campaigns, residential_needs
from .config import CHUNK_ROWS, SimulationConfig, stream
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


def generate(cfg: SimulationConfig, out_dir: str | Path, force: bool = False,
             progress: Callable[[str], None] | None = None) -> Summary:
    """Build the world of ``cfg`` and write its bundle to ``out_dir`` (atomically: a temp folder, then rename)."""
    say = progress or (lambda message: None)
    out = Path(out_dir)
    _check_target(out, force)
    work = out.with_name(out.name + ".partial")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)

    plan = AddressPlan(stream(cfg.seed, "network"))
    bank = PromptBank(stream(cfg.seed, "prompts"))
    egress = Egress()
    needs = residential_needs(cfg)
    network_of = [int(i) for i in stream(cfg.seed, "campaign-networks").integers(len(RESIDENTIAL_PROXIES),
                                                                                  size=len(needs))]
    base = max(RESIDENTIAL_BASE_EXITS, cfg.accounts // 50)
    networks = plan.residential_networks([
        max(base, int(1.5 * max([n for n, k in zip(needs, network_of) if k == i], default=0)))
        for i in range(len(RESIDENTIAL_PROXIES))])
    honest_count = cfg.accounts - sum(cfg.campaign_sizes)
    say(f"population: {honest_count} honest accounts")
    honest, linkage = build_population(cfg, stream(cfg.seed, "population"), plan, egress, bank, honest_count, networks)
    say(f"campaigns: {len(cfg.campaign_sizes)} ({sum(cfg.campaign_sizes)} accounts, evasion {cfg.evasion})")
    campaign_block, campaign_links, campaigns = build_campaigns(
        cfg, stream(cfg.seed, "campaigns"), plan, egress, bank, networks, network_of, honest_count)
    accounts = Accounts.concat([honest, campaign_block]) if campaign_block is not None else honest
    shifted = campaign_links.shifted(honest_count)
    linkage.links += shifted.links
    linkage.relations += shifted.relations
    pool_addresses, pool_start, pool_length = egress.table()
    linkage.links += ip_links(stream(cfg.seed, "ip-links"), cfg, accounts, pool_addresses, pool_start,
                              pool_length).links

    id_rng = stream(cfg.seed, "ids")
    number = id_rng.permutation(len(accounts))
    width = max(7, len(str(len(accounts))))
    account_ids = concat("acc_", pc.utf8_lpad(pa.array(number).cast(pa.string()), width=width, padding="0"))
    api_keys = hex_ids("sk-", id_rng.integers(1, 2**63, len(accounts), dtype=np.uint64), 16)
    status = _status(stream(cfg.seed, "status"), accounts)
    labels = _labels(stream(cfg.seed, "labels"), accounts, status)

    writer = BundleWriter(work, cfg.requests_format)
    counts = {
        "accounts": writer.table("accounts", _accounts_table(accounts, account_ids, status), "account_id"),
        "links": writer.table("links", _links_table(linkage, account_ids, stream(cfg.seed, "phones")),
                              "account_id", "kind", "value"),
        "relations": writer.table("relations", _relations_table(linkage, account_ids), "ts", "account_id"),
        "labels": writer.table("labels", _labels_table(labels, account_ids), "account_id"),
        "ip_intel": writer.table("ip_intel", plan.intel.table(), None),
    }
    writer.csv("truth", _truth_table(accounts, account_ids, campaigns), "account_id")
    writer.csv("truth_groups", _groups_table(accounts, account_ids, campaigns), "account_id")

    traffic = Traffic(cfg, accounts, campaigns, bank, pool_addresses, pool_start, pool_length, account_ids, api_keys)
    order = np.argsort(number)  # chunks follow account ids, so files do not group campaigns
    volume = accounts.n_ordinary[order] + accounts.n_extract[order]
    chunk_of = np.cumsum(volume) // CHUNK_ROWS
    boundaries = np.flatnonzero(np.diff(chunk_of)) + 1
    requests = 0
    chunks = np.split(order, boundaries)
    for index, positions in enumerate(chunks):
        table = traffic.chunk(stream(cfg.seed, "requests", index), positions)
        writer.requests(table)
        requests += table.num_rows
        say(f"requests: chunk {index + 1}/{len(chunks)}, {requests:,} rows")
    writer.close()
    counts["requests"] = requests
    _write_scenario(work, cfg, campaigns, accounts, counts)
    if out.exists():
        shutil.rmtree(out)
    work.rename(out)
    return Summary(out, counts)


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


def _links_table(linkage: Linkage, ids: pa.Array, phone_rng: np.random.Generator) -> pa.Table:
    links = pa.concat_tables(linkage.links).combine_chunks()
    values = links["value"].combine_chunks()
    # Phones travel as keys until here; every distinct key becomes a distinct fictional number.
    is_phone = pc.equal(links["kind"], "phone").combine_chunks()
    phones = pc.dictionary_encode(pc.filter(values, is_phone))
    numbers = distinct_integers(phone_rng, 10_000_000, len(phones.dictionary))
    text = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width=7, padding="0")
    dialled = concat("+1555", text).take(phones.indices)
    values = pc.replace_with_mask(values, is_phone, dialled)
    return pa.table({
        "account_id": ids.take(links["account"]),
        "kind": links["kind"],
        "value": values,
        "first_seen": iso_strings(links["first_seen"].to_numpy()),
        "last_seen": iso_strings(links["last_seen"].to_numpy()),
        "count": links["count"],
    })


def _relations_table(linkage: Linkage, ids: pa.Array) -> pa.Table:
    relations = pa.concat_tables(linkage.relations)
    return pa.table({
        "account_id": ids.take(relations["account"]),
        "other_account_id": ids.take(relations["other"]),
        "kind": relations["kind"],
        "ts": iso_strings(relations["ts"].to_numpy()),
    })


def _labels_table(labels: dict[str, np.ndarray], ids: pa.Array) -> pa.Table:
    return pa.table({"account_id": ids.take(pa.array(labels["account"])),
                     "label": pa.array(labels["label"], pa.string()),
                     "source": pa.array(labels["source"], pa.string())})


def _campaign_column(accounts: Accounts, campaigns: list) -> pa.Array:
    names = pa.array([c.campaign_id for c in campaigns] or [""], pa.string())
    mask = pa.array(accounts.campaign < 0)
    return pc.if_else(mask, pa.scalar(None, pa.string()), names.take(pa.array(np.maximum(accounts.campaign, 0)
                                                                             .astype(np.int64))))


def _truth_table(accounts: Accounts, ids: pa.Array, campaigns: list) -> pa.Table:
    return pa.table({"account_id": ids, "campaign_id": _campaign_column(accounts, campaigns),
                     "role": pa.array(acc.ROLES).take(pa.array(accounts.role.astype(np.int64)))})


def _groups_table(accounts: Accounts, ids: pa.Array, campaigns: list) -> pa.Table:
    """Honest group (company, household, study group, service org) or campaign of every account."""
    return pa.table({"account_id": ids,
                     "segment": pa.array(acc.SEGMENTS).take(pa.array(accounts.segment.astype(np.int64))),
                     "group_id": pc.coalesce(accounts.group, _campaign_column(accounts, campaigns))})


def _write_scenario(work: Path, cfg: SimulationConfig, campaigns: list, accounts: Accounts,
                    counts: dict[str, int]) -> None:
    honest = accounts.campaign < 0
    scenario = cfg.describe()
    scenario["counts"] = {
        **counts,
        "honest_accounts": int(honest.sum()),
        "campaign_accounts": int((~honest).sum()),
        "honest_requests": int(accounts.n_ordinary[honest].sum()),
        "campaign_requests": int((accounts.n_ordinary + accounts.n_extract)[~honest].sum()),
        "segments": {name: int((accounts.segment == i).sum()) for i, name in enumerate(acc.SEGMENTS)},
    }
    scenario["campaigns"] = [c.describe() for c in campaigns]
    scenario["files"] = {
        "requests": "requests.csv" if cfg.requests_format == "csv" else "requests/part-NNNNN.parquet",
        "requests_ts": "ISO-8601 UTC text" if cfg.requests_format == "csv" else "epoch seconds (int64)",
        "prompt": "text and prompt_fingerprint" if cfg.prompt_text else "prompt_fingerprint only",
    }
    (work / "scenario.json").write_text(json.dumps(scenario, indent=2, sort_keys=True) + "\n")
