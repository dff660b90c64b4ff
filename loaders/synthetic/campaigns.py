"""Distillation campaigns, modelled on the public reports (docs/simulator.md, domain brief).

A campaign is one operator running many accounts ("hydra"): accounts are created in bursts,
part of them are fronts of a reseller proxy service that mixes extraction traffic with its
ordinary customers' traffic; they pay from small card pools with shared billing details,
leave through datacenter or residential-proxy networks, send slot-filled prompts from a few
templates with a narrow capability focus in synchronised job windows, and move about half
their traffic to a newly released model within 24 hours. The evasion level (config.EVASION)
decides how much of that stays visible.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa

from . import accounts as acc
from . import archetypes as arch
from .accounts import Accounts, Linkage
from .config import EVASION, Evasion, SimulationConfig, iso_utc
from .fmt import concat, hex_ids, pick
from .network import CLOUDS, RESELLER_MARKED_SHARE, RESIDENTIAL_PROXIES, AddressPlan, Egress
from .population import CONSUMER_DOMAINS, FIRST, LAST, emit_identifier_links
from .prompts import CAP, CAPABILITIES, PERSONAS, CampaignTemplates, PromptBank

# Load balancing keeps per-account volume even: requests per account are lognormal around the
# campaign's target with sigma 0.15 (the published 670-1,150 range is between campaigns).
PER_ACCOUNT_SIGMA = 0.15
RESELLER_CAMPAIGNS = 0.6  # share of campaigns that buy part of their accounts from a reseller
RESELLER_ACCOUNTS = (0.3, 0.8)  # share of such a campaign's accounts that are reseller fronts
FLAGSHIP_RESELLER_ACCOUNTS = 0.8  # the 25k case: a hydra service with >20k accounts
RESELLER_CUSTOMER_TRAFFIC = (0.3, 0.5)  # share of a front's requests that are ordinary customers'
BURST_ACCOUNTS = (40, 400)  # accounts created per creation burst
CREATION_LEAD_DAYS = 20  # bursts start up to this long before the campaign's first job
SWITCH_DELAY_HOURS = (2, 20)  # the new model is adopted this soon after release...
SWITCH_SHARE = (0.42, 0.58)  # ...for about half of the traffic
INPUT_TOKENS_MEDIAN, INPUT_SIGMA = (180, 420), 0.35  # templated prompts: narrow spread
OUTPUT_TOKENS_MEDIAN, OUTPUT_SIGMA = (900, 2_400), 0.30  # step-by-step answers are long
BURST_DAY_SHARE, BURST_DAY_FACTOR, DAY_SIGMA = 0.1, 2.5, 0.35  # day-level intensity, shared by all accounts
PHONE_VERIFIED = 0.9
LEAD_ACCOUNTS = 3
# Residential exits a campaign needs: sticky sessions use a few per account, rotation a large pool.
STICKY_EXITS_PER_ACCOUNT, ROTATING_EXITS_PER_ACCOUNT = 3, 20
ROTATING_EXITS = (20_000, 500_000)
SHELL_WORDS = (["Nimbus", "Quillstone", "Orbital", "Sable", "Vantage", "Meridian", "Halcyon", "Cobalt", "Aster",
                "Kestrel"], ["Data Labs", "Research", "AI Studio", "Analytics", "Intelligence"])
RESELLERS = ["RelayHub API", "ModelGate", "TokenBridge", "OpenRoute Proxy", "Hydra API Services"]


@dataclass
class CampaignPlan:
    """Everything traffic generation needs to know about one campaign."""

    index: int
    campaign_id: str
    operator: str
    accounts: int
    fronts: int
    reseller: str | None
    requests_per_account: int
    start_epoch: int
    end_epoch: int
    day_intensity: np.ndarray  # (days,) relative volume, zero outside the campaign's span
    window_start_hours: np.ndarray  # daily job windows (UTC)
    window_hours: np.ndarray
    jitter_seconds: float
    switch_epoch: int
    switch_share: float
    input_median: float
    output_median: float
    family: CampaignTemplates
    residential_network: str | None
    cloud: str
    archetype: str = "hydra"
    wrappers: arch.WrapperFamily | None = None  # prompts are wrapped free-text tasks (no fingerprint)
    notes: dict = field(default_factory=dict)  # archetype knobs drawn from the seed

    def describe(self) -> dict:
        """Parameters for scenario.json."""
        if self.wrappers is not None:
            prompts = {"capabilities": sorted({CAPABILITIES[int(c)] for c in self.wrappers.capability}),
                       "templates": len(self.wrappers.bases), "paraphrases": self.wrappers.paraphrases,
                       "wrappers": self.wrappers.texts()}
        else:
            prompts = {"capabilities": sorted({CAPABILITIES[int(c)] for c in self.family.capability}),
                       "templates": int(self.family.fingerprint.shape[0]),
                       "paraphrases": int(self.family.fingerprint.shape[1])}
        return {"archetype": self.archetype, **prompts, **({"knobs": self.notes} if self.notes else {}),
            "campaign_id": self.campaign_id, "operator": self.operator, "accounts": self.accounts,
            "reseller_fronts": self.fronts, "reseller": self.reseller,
            "requests_per_account_target": self.requests_per_account,
            "start": iso_utc(self.start_epoch), "end": iso_utc(self.end_epoch),
            "job_windows_utc": [[round(float(s), 2), round(float(h), 2)]
                                for s, h in zip(self.window_start_hours, self.window_hours)],
            "jitter_seconds": self.jitter_seconds, "model_switch": iso_utc(self.switch_epoch),
            "model_switch_share": round(self.switch_share, 3),
            "residential_network": self.residential_network, "cloud": self.cloud,
        }


@dataclass(frozen=True)
class Lifecycle:
    """How a campaign lives in an evolving world (evolution.py); plain worlds pass none.

    It is born in the period of days ``born`` (first, last): it starts in that period's first quarter,
    creates its accounts inside it (after its first day when that is not day 0) and runs to the world's end.
    ``late_accounts`` of its accounts come in one creation burst after that period (the campaign grows);
    ``resold`` False means no reseller fronts (a fleet that moved to new infrastructure brings none).
    """

    born: tuple[int, int]
    late_accounts: int = 0
    resold: bool = True


def residential_needs(cfg: SimulationConfig) -> list[int]:
    """Residential exits each campaign needs (0 when its egress is a datacenter)."""
    egress = EVASION[cfg.evasion].egress
    needs = []
    for index, size in enumerate(cfg.campaign_sizes):
        if cfg.archetypes:  # hydra and slow operators: sticky residential exits; the others none
            needs.append(size * STICKY_EXITS_PER_ACCOUNT if cfg.archetypes[index] in ("hydra", "slow") else 0)
        elif egress == "sticky_residential":
            needs.append(size * STICKY_EXITS_PER_ACCOUNT)
        elif egress == "rotating_residential":
            needs.append(int(np.clip(size * ROTATING_EXITS_PER_ACCOUNT, *ROTATING_EXITS)))
        else:
            needs.append(0)
    return needs


def build_campaigns(cfg: SimulationConfig, rng: np.random.Generator, plan: AddressPlan, egress: Egress,
                    bank: PromptBank, networks: list[np.ndarray], network_of: list[int], first_number: int,
                    lifecycles: list[Lifecycle] | None = None) -> tuple[Accounts, Linkage, list[CampaignPlan]]:
    """All campaign accounts (positions start at 0), their linkage and plans.

    ``first_number`` keeps generated e-mail numbers distinct from the honest population's;
    ``lifecycles`` (one per campaign) pins spans and creation times in an evolving world.
    """
    knobs = EVASION[cfg.evasion]
    parts, plans, linkage = [], [], Linkage()
    offset = 0
    # operators of one world draw disjoint instruction wrappers
    deck = [int(i) for i in rng.permutation(len(arch.WRAPPERS))] if cfg.archetypes else []
    for index, (size, target) in enumerate(zip(cfg.campaign_sizes, cfg.campaign_requests_per_account)):
        kind = cfg.archetypes[index] if cfg.archetypes else "hydra"
        if kind == "hydra":
            own = _hydra_knobs(rng) if cfg.archetypes else knobs
            block, links, campaign = _campaign(cfg, rng, plan, egress, bank, own, index, size, target,
                                               networks, network_of[index], first_number + offset,
                                               lifecycles[index] if lifecycles else None)
            if cfg.archetypes:
                campaign.notes = {"accounts_per_card": round(own.accounts_per_card, 1),
                                  "jitter_seconds": round(own.jitter_seconds)}
        else:
            block, links, campaign = _operator(kind, cfg, rng, plan, egress, bank, index, size, target,
                                               networks[network_of[index]], network_of[index], first_number + offset,
                                               deck)
        parts.append(block)
        shifted = links.shifted(offset)
        linkage.links += shifted.links
        linkage.relations += shifted.relations
        plans.append(campaign)
        offset += size
    return (Accounts.concat(parts) if parts else None), linkage, plans


def _hydra_knobs(rng: np.random.Generator) -> Evasion:
    """A card-sharing hydra over sticky residential proxies, its pools and timing drawn from the seed."""
    low = EVASION["low"]
    return replace(low, accounts_per_card=float(rng.uniform(4, 40)), accounts_per_device=float(rng.uniform(5, 40)),
                   jitter_seconds=float(rng.uniform(600, 5_400)),
                   window_hours=(float(rng.uniform(6, 12)), float(rng.uniform(12, 18))),
                   paraphrases=int(rng.integers(2, 12)))


def _operator(kind: str, cfg: SimulationConfig, rng: np.random.Generator, plan: AddressPlan, egress: Egress,
              bank: PromptBank, index: int, size: int, target: int, exits: np.ndarray, network: int,
              first_number: int, deck: list[int]) -> tuple[Accounts, Linkage, CampaignPlan]:
    """One operator of a non-hydra archetype (archetypes.py): accounts, linkage and plan."""
    operator = f"{SHELL_WORDS[0][rng.integers(len(SHELL_WORDS[0]))]} {SHELL_WORDS[1][rng.integers(len(SHELL_WORDS[1]))]}"
    s = arch.setup(kind, rng, cfg.days, cfg.start_epoch, size)
    notes = dict(s.notes)
    start, end = cfg.start_epoch + s.span_days[0] * 86_400, cfg.start_epoch + s.span_days[1] * 86_400
    intensity = rng.lognormal(0, DAY_SIGMA, cfg.days) * np.where(rng.random(cfg.days) < BURST_DAY_SHARE,
                                                                BURST_DAY_FACTOR, 1)
    intensity[:s.span_days[0]] = 0
    intensity[s.span_days[1]:] = 0
    total = np.maximum(1, np.round(target * rng.lognormal(-s.per_account_sigma ** 2 / 2, s.per_account_sigma, size))
                       ).astype(np.int64)
    n_ordinary = np.round(total * rng.uniform(*s.ordinary_share, size)).astype(np.int64)

    # Egress.
    pool_anon, p_anon = np.full(size, -1, np.int32), np.zeros(size, np.float32)
    cloud, reseller, residential = int(rng.integers(len(CLOUDS))), None, None
    if kind == "hosting":
        prefix = int(rng.integers(22, 25))
        addresses, network, provider = plan.unflagged_hosting_block(prefix)
        sticky = int(rng.integers(1, 4))
        pool_primary = egress.add_many(addresses[rng.integers(len(addresses), size=sticky * size)],
                                       np.full(size, sticky))
        notes.update(address_range=network, hosting_provider=provider, addresses_per_account=sticky)
    elif kind == "ring":
        homes = plan.home_addresses(int(rng.integers(1, 4)))
        pool_primary = np.full(size, egress.add(homes), np.int32)
        notes["home_addresses"] = len(homes)
    elif kind == "reseller":
        reseller = RESELLERS[int(rng.integers(len(RESELLERS)))]
        marked = reseller if rng.random() < RESELLER_MARKED_SHARE else None
        block_size = max(8, round(size / float(rng.uniform(4, 25))))
        pool_primary = np.full(size, egress.add(plan.cloud_block(cloud, block_size, marked)), np.int32)
        notes.update(reseller_addresses=block_size, intel_names_reseller=marked is not None)
    else:  # slow: sticky residential exits of one proxy network
        own = exits[rng.choice(len(exits), size=min(size * STICKY_EXITS_PER_ACCOUNT, len(exits)), replace=False)]
        pool_primary = egress.add_many(own[rng.integers(len(own), size=6 * size)], np.full(size, 6))
        residential = True

    # Prompts.
    wrappers, family = None, bank.campaign_family(1, 1)
    if kind == "hosting" or (kind == "ring" and rng.random() < 0.5):
        count = 1 if kind == "ring" else int(rng.integers(2, 5))
        bases, deck[:] = deck[:count], deck[count:] + deck[:count]
        wrappers = arch.wrapper_family(rng, bases, CAP)
    elif kind == "reseller":
        family = bank.campaign_family(3, 6)
    elif kind == "slow":
        family = bank.campaign_family(int(rng.integers(2, 5)), int(rng.integers(10, 41)))

    country, tz = arch.claimed_countries(kind, rng, size)
    email = arch.consumer_emails(rng, size, first_number, FIRST, LAST, CONSUMER_DOMAINS)
    switch_delay = rng.uniform(*SWITCH_DELAY_HOURS)
    created = s.created
    accounts = arch.block(created, email, country, tz, rng.choice([2, 5], size, p=[0.4, 0.6]),
                          rng.integers(PERSONAS, size=size), n_ordinary, total - n_ordinary, index,
                          2 if kind == "reseller" else 1, pool_primary.astype(np.int32), pool_anon, p_anon,
                          switch_delay / 24, np.maximum(created, start))
    linkage = Linkage()
    keys, key_notes = arch.identifiers(kind, rng, size)
    notes.update(key_notes)
    emit_identifier_links(linkage, rng, cfg, accounts, np.arange(size), keys["card"], np.ones(size, bool),
                          keys["device"], keys["phone"], rng.random(size) < PHONE_VERIFIED, np.full(size, -1),
                          pa.nulls(size, pa.string()))
    if kind == "ring":
        referrer, referred = arch.referral_chain(rng, size)
        linkage.relate("referred", referrer, referred, created[referred])
    campaign = CampaignPlan(
        index=index, campaign_id=f"camp-{index + 1:02d}", operator=operator, accounts=size,
        fronts=size if kind == "reseller" else 0, reseller=reseller, requests_per_account=target,
        start_epoch=start, end_epoch=end, day_intensity=intensity, window_start_hours=s.window_start,
        window_hours=s.window_hours, jitter_seconds=s.jitter_seconds,
        switch_epoch=int(cfg.release_epoch + switch_delay * 3_600), switch_share=float(rng.uniform(*SWITCH_SHARE)),
        input_median=float(rng.uniform(*INPUT_TOKENS_MEDIAN)), output_median=float(rng.uniform(*OUTPUT_TOKENS_MEDIAN)),
        family=family, residential_network=RESIDENTIAL_PROXIES[network] if residential else None, cloud=CLOUDS[cloud][0],
        archetype=kind, wrappers=wrappers, notes=notes)
    return accounts, linkage, campaign


def _campaign(cfg: SimulationConfig, rng: np.random.Generator, plan: AddressPlan, egress: Egress, bank: PromptBank,
              knobs: Evasion, index: int, size: int, target: int, networks: list[np.ndarray], network: int,
              first_number: int, life: Lifecycle | None) -> tuple[Accounts, Linkage, CampaignPlan]:
    days = cfg.days
    flagship = cfg.scale == "seed" and index == 0
    operator = f"{SHELL_WORDS[0][rng.integers(len(SHELL_WORDS[0]))]} {SHELL_WORDS[1][rng.integers(len(SHELL_WORDS[1]))]}"
    domain = "".join(ch for ch in operator.lower() if ch.isalnum()) + ".example"

    # Span, creation bursts and day-level intensity.
    if life is None:
        start_day = 0 if flagship else int(rng.integers(0, max(1, days // 4)))
        end_day = days if flagship or rng.random() < 0.7 else int(rng.uniform(0.75, 1.0) * days)
    else:
        start_day = life.born[0] + int(rng.integers(0, max(1, (life.born[1] - life.born[0]) // 4)))
        end_day = days
    start, end = cfg.start_epoch + start_day * 86_400, cfg.start_epoch + end_day * 86_400
    # Accounts are created from CREATION_LEAD_DAYS before the start until the middle of the span (of the
    # birth period in an evolving world, never before that period), and at least two days before it ends.
    earliest, creation_end = start - CREATION_LEAD_DAYS * 86_400, end
    if life is not None:
        creation_end = cfg.start_epoch + life.born[1] * 86_400
        if life.born[0] > 0:
            earliest = max(earliest, cfg.start_epoch + life.born[0] * 86_400 + 1)
    bursts = max(1, -(-size // int(rng.integers(*BURST_ACCOUNTS))))
    burst_at = rng.uniform(earliest, start + 0.5 * (creation_end - start), bursts)
    created = burst_at[rng.integers(bursts, size=size)] + rng.random(size) * knobs.burst_spread_hours * 3_600
    created = np.minimum(created, creation_end - 2 * 86_400).astype(np.int64)
    if life is not None and life.late_accounts:
        late = slice(size - life.late_accounts, size)
        late_burst = rng.uniform(creation_end + 1, creation_end + 0.5 * (end - creation_end))
        created[late] = np.minimum(late_burst + rng.random(life.late_accounts) * knobs.burst_spread_hours * 3_600,
                                   end - 2 * 86_400).astype(np.int64)
    intensity = rng.lognormal(0, DAY_SIGMA, days) * np.where(rng.random(days) < BURST_DAY_SHARE, BURST_DAY_FACTOR, 1)
    intensity[:start_day] = 0
    intensity[end_day:] = 0
    windows = int(rng.integers(1, 4))
    window_hours = rng.dirichlet(np.ones(windows) * 3) * rng.uniform(*knobs.window_hours)
    window_start = rng.uniform(0, 24, windows)

    # Roles and volume.
    fronts = 0
    if flagship:
        fronts = round(size * FLAGSHIP_RESELLER_ACCOUNTS)
    elif (life is None or life.resold) and rng.random() < RESELLER_CAMPAIGNS:
        fronts = round(size * rng.uniform(*RESELLER_ACCOUNTS))
    is_front = np.arange(size) < fronts
    reseller = RESELLERS[int(rng.integers(len(RESELLERS)))] if fronts else None
    total = np.round(target * rng.lognormal(-PER_ACCOUNT_SIGMA ** 2 / 2, PER_ACCOUNT_SIGMA, size)).astype(np.int64)
    mix = np.where(is_front, rng.uniform(*RESELLER_CUSTOMER_TRAFFIC, size), knobs.benign_mix)
    n_ordinary = np.round(total * mix).astype(np.int64)

    # Egress.
    cloud = int(rng.integers(len(CLOUDS)))
    operator_block = plan.cloud_block(cloud, max(4, size // 15))
    pool_primary = np.full(size, -1, np.int32)
    pool_anon = np.full(size, -1, np.int32)
    p_anon = np.zeros(size, np.float32)
    operated = np.flatnonzero(~is_front)
    if knobs.egress == "datacenter":
        picks = operator_block[rng.integers(len(operator_block), size=2 * len(operated))]
        pool_primary[operated] = egress.add_many(picks, np.full(len(operated), 2))
    else:
        exits = networks[network]
        need = residential_needs(cfg)[index]
        own_exits = exits[rng.choice(len(exits), size=min(need, len(exits)), replace=False)]
        if knobs.egress == "sticky_residential":
            picks = own_exits[rng.integers(len(own_exits), size=6 * len(operated))]
            pool_primary[operated] = egress.add_many(picks, np.full(len(operated), 6))
        else:
            pool_primary[operated] = egress.add(own_exits)
        if knobs.datacenter_share > 0:
            picks = operator_block[rng.integers(len(operator_block), size=2 * len(operated))]
            pool_anon[operated] = egress.add_many(picks, np.full(len(operated), 2))
            p_anon[operated] = knobs.datacenter_share
    if fronts:
        marked = reseller if rng.random() < RESELLER_MARKED_SHARE else None
        addresses = max(8, round(fronts / knobs.accounts_per_reseller_address))
        pool_primary[is_front] = egress.add(plan.cloud_block(int(rng.integers(len(CLOUDS))), addresses, marked))

    # Claimed identity.
    if knobs.claimed_country_spread:
        country, tz = acc.draw_countries(rng, size)
    else:
        claimed = int(rng.choice(len(acc.COUNTRIES), p=acc.COUNTRY_SHARE))
        country = np.where(rng.random(size) < 0.9, claimed, rng.choice(len(acc.COUNTRIES), size, p=acc.COUNTRY_SHARE))
        tz = acc.country_offsets(rng, country)
    on_operator_domain = ~is_front & (rng.random(size) < {"none": 1.0, "low": 0.5, "high": 0.0}[cfg.evasion])
    consumer = concat(pick(FIRST, rng.integers(len(FIRST), size=size)), ".",
                      pick(LAST, rng.integers(len(LAST), size=size)),
                      pa.array(first_number + rng.permutation(size) + 1).cast(pa.string()), "@",
                      pick(CONSUMER_DOMAINS, rng.integers(len(CONSUMER_DOMAINS), size=size)))
    own = concat(hex_ids("u", rng.integers(1, 2**63, size, dtype=np.uint64), 8), "@" + domain)
    email = pa.array(np.where(on_operator_domain, own.to_numpy(zero_copy_only=False),
                              consumer.to_numpy(zero_copy_only=False)), pa.string())
    variants = [operator, operator + " Ltd", operator.upper(), operator.split()[0]]
    org = pa.array(np.where(~is_front & (rng.random(size) < knobs.org_shared),
                            pick(variants, rng.integers(len(variants), size=size)).to_numpy(zero_copy_only=False),
                            None), pa.string())
    switch_delay = rng.uniform(*SWITCH_DELAY_HOURS)
    block = Accounts(
        created_at=created, email=email, org=org, country=country, tz=tz.astype(np.float32),
        plan=rng.choice([2, 5], size, p=[0.4, 0.6]).astype(np.int8), profile=np.full(size, acc.PERSONAL, np.int8),
        persona=rng.integers(PERSONAS, size=size), n_ordinary=n_ordinary, n_extract=total - n_ordinary,
        campaign=np.full(size, index, np.int16), role=np.where(is_front, 2, 1).astype(np.int8),
        segment=np.full(size, 5, np.int8), group=pa.nulls(size, pa.string()), pool_primary=pool_primary,
        pool_mobile=np.full(size, -1, np.int32), pool_anon=pool_anon, p_mobile=np.zeros(size, np.float32),
        p_anon=p_anon, adopt_delay_days=np.full(size, switch_delay / 24, np.float32),
        active_from=np.maximum(created, start),
    )

    linkage = Linkage()
    keys = {kind: _pooled(rng, size, per, is_front, knobs.card_reuse if kind == "card" else 0.0)
            for kind, per in (("card", knobs.accounts_per_card), ("device", knobs.accounts_per_device),
                              ("phone", knobs.accounts_per_phone))}
    if life is not None and life.late_accounts:
        # The accounts a growing campaign adds join the running operation: each clones the setup of a random
        # earlier account of the same role (reseller front or operator account; any earlier account when the
        # role had none) - its card, device, phone and egress - as a fleet manager copies a working profile.
        # Drawn from the pools alone, a burst of new accounts can land on cards no earlier account uses and
        # look like a campaign of its own.
        grown = np.arange(size - life.late_accounts, size)
        earlier = np.arange(grown[0])
        donors = np.empty(len(grown), np.int64)
        for role in (True, False):
            joining = is_front[grown] == role
            same_role = earlier[is_front[earlier] == role]
            donors[joining] = rng.choice(same_role if len(same_role) else earlier, size=int(joining.sum()))
        for values in (*keys.values(), block.pool_primary, block.pool_anon, block.p_anon):
            values[grown] = values[donors]
    mailbox = pa.array(np.where(~is_front & (rng.random(size) < knobs.shared_billing_email),
                                f"billing@{domain}", None), pa.string())
    emit_identifier_links(linkage, rng, cfg, block, np.arange(size), keys["card"], np.ones(size, bool),
                          keys["device"], keys["phone"], rng.random(size) < PHONE_VERIFIED,
                          np.full(size, -1), mailbox)
    invited = np.flatnonzero(~is_front & (rng.random(size) < knobs.invite_share))
    leads = operated[:LEAD_ACCOUNTS]
    if len(leads):
        inviter = leads[rng.integers(len(leads), size=len(invited))]
        keep = inviter != invited
        linkage.relate("invited", inviter[keep], invited[keep], created[invited[keep]])

    campaign = CampaignPlan(
        index=index, campaign_id=f"camp-{index + 1:02d}", operator=operator, accounts=size, fronts=fronts,
        reseller=reseller, requests_per_account=target, start_epoch=start, end_epoch=end,
        day_intensity=intensity, window_start_hours=window_start, window_hours=window_hours,
        jitter_seconds=knobs.jitter_seconds, switch_epoch=int(cfg.release_epoch + switch_delay * 3_600),
        switch_share=float(rng.uniform(*SWITCH_SHARE)),
        input_median=float(rng.uniform(*INPUT_TOKENS_MEDIAN)), output_median=float(rng.uniform(*OUTPUT_TOKENS_MEDIAN)),
        family=bank.campaign_family(knobs.templates, knobs.paraphrases),
        residential_network=RESIDENTIAL_PROXIES[network] if knobs.egress != "datacenter" else None,
        cloud=CLOUDS[cloud][0],
    )
    return block, linkage, campaign


def _pooled(rng: np.random.Generator, size: int, accounts_per_key: float, is_front: np.ndarray,
            reuse: float) -> np.ndarray:
    """Identifier keys drawn from small pools: one pool for the operator, one for the reseller.

    ``accounts_per_key`` = inf gives every account its own key; ``reuse`` is the share that still
    takes one of three keys anyway (the sloppiness that survives high evasion).
    """
    keys = rng.integers(1, 2**63, size, dtype=np.uint64)
    if np.isfinite(accounts_per_key):
        for members in (np.flatnonzero(~is_front), np.flatnonzero(is_front)):
            pool = rng.integers(1, 2**63, max(1, int(np.ceil(len(members) / accounts_per_key))), dtype=np.uint64)
            keys[members] = pool[rng.integers(len(pool), size=len(members))]
    sloppy = rng.random(size) < reuse
    keys[sloppy] = rng.integers(1, 2**63, 3, dtype=np.uint64)[rng.integers(3, size=int(sloppy.sum()))]
    return keys
