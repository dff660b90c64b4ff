"""Scales, evasion knobs and the run configuration of ``linkwatch simulate``.

Every number here is a modelling choice; the comment next to it says why.
docs/simulator.md repeats them for readers who do not open the code.
"""
from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone

import numpy as np

from graph.errors import LinkwatchError

# The public 45-day case ran Apr 22 - Jun 5 2026; every scale starts on that day so
# numbers line up with the press reports.
WINDOW_START = datetime(2026, 4, 22, tzinfo=timezone.utc)

# A newer model ships inside the window; campaigns move ~half their traffic to it
# within 24 h, honest users adopt it over weeks. Placed at 60 % of the window so
# both "before" and "after" are visible.
RELEASE_FRACTION = 0.6

# Rows per generated request chunk: bounds memory (~100 MB per chunk) at any scale.
CHUNK_ROWS = 2_000_000


@dataclass(frozen=True)
class Scale:
    """A named world size. campaign_sizes: (smallest, largest) accounts, geometric in between."""

    accounts: int
    days: int
    campaigns: int
    campaign_sizes: tuple[int, int]
    # Mean requests per ordinary benign account over the window (lognormal, heavy tail).
    benign_mean_requests: float
    requests_format: str  # "csv" (readable, with prompt text) or "parquet" (part files, fingerprints)
    # (accounts, requests per account) of one extra headline campaign, or None.
    flagship: tuple[int, int] | None = None


SCALES: dict[str, Scale] = {
    # ~5k accounts, readable CSV with prompt text, four campaigns 30 -> 800 accounts.
    "demo": Scale(5_000, 30, 4, (30, 800), 30.0, "csv"),
    # ~100k accounts and ~3M requests: campaigns ~1.6M, benign ~1.4M.
    "medium": Scale(100_000, 30, 5, (40, 1_000), 12.0, "parquet"),
    # ~1M accounts over the 45-day window, eight campaigns up to 10k accounts.
    "large": Scale(1_000_000, 45, 8, (100, 10_000), 12.0, "parquet"),
    # The public case: one campaign of 25,000 accounts x 1,152 requests = 28.8M requests
    # in 45 days inside a ~1M population, plus smaller campaigns.
    "seed": Scale(1_000_000, 45, 3, (300, 2_000), 12.0, "parquet", flagship=(25_000, 1_152)),
}


@dataclass(frozen=True)
class Evasion:
    """How hard a campaign tries to look like unrelated customers.

    Even at ``high`` a campaign keeps something weak but real: one residential proxy
    network, one template family, synchronised day-level intensity and creation bursts.
    """

    accounts_per_card: float  # card pool size = accounts / this; inf = unique card per account
    card_reuse: float  # share of accounts that still reuse a card from a tiny pool (sloppiness)
    accounts_per_device: float
    accounts_per_phone: float
    shared_billing_email: float  # share of accounts using one shared billing mailbox
    org_shared: float  # share of accounts that fill in the shell company's org string
    egress: str  # "datacenter" (sticky DC IPs), "sticky_residential", "rotating_residential"
    datacenter_share: float  # share of requests still leaving through the operator's DC block
    accounts_per_reseller_address: float  # reseller fronts rotate over fronts / this hosting addresses
    jitter_seconds: float  # std-dev of timing jitter around the synchronised job windows
    window_hours: tuple[float, float]  # daily hours covered by the job windows (min, max)
    burst_spread_hours: float  # how long one account-creation burst lasts
    benign_mix: float  # share of an account's requests that imitate ordinary use
    templates: int  # templates in the campaign's family
    paraphrases: int  # surface variants per template
    invite_share: float  # share of accounts invited by a few lead accounts
    claimed_country_spread: bool  # True: claimed countries follow the benign mix


EVASION: dict[str, Evasion] = {
    # Careless operator: a few shared cards, devices and SMS numbers, one billing mailbox and
    # org string, sticky datacenter egress, tight job windows, a single template wording.
    "none": Evasion(accounts_per_card=40, card_reuse=0.0, accounts_per_device=60, accounts_per_phone=50,
                    shared_billing_email=0.6, org_shared=0.8, egress="datacenter", datacenter_share=1.0,
                    accounts_per_reseller_address=25, jitter_seconds=300, window_hours=(6, 10),
                    burst_spread_hours=1, benign_mix=0.0, templates=2, paraphrases=1, invite_share=0.6,
                    claimed_country_spread=False),
    # Typical: smaller pools, sticky residential proxies with some datacenter leakage.
    "low": Evasion(accounts_per_card=8, card_reuse=0.0, accounts_per_device=20, accounts_per_phone=10,
                   shared_billing_email=0.1, org_shared=0.3, egress="sticky_residential", datacenter_share=0.2,
                   accounts_per_reseller_address=25, jitter_seconds=2_700, window_hours=(10, 16),
                   burst_spread_hours=6, benign_mix=0.1, templates=3, paraphrases=6, invite_share=0.15,
                   claimed_country_spread=False),
    # Careful: unique virtual card, device and number per account, per-request rotation over a
    # large residential pool, hours of jitter, a third ordinary-looking traffic, 40 paraphrases.
    "high": Evasion(accounts_per_card=float("inf"), card_reuse=0.03, accounts_per_device=float("inf"),
                    accounts_per_phone=float("inf"), shared_billing_email=0.0, org_shared=0.0,
                    egress="rotating_residential", datacenter_share=0.0, accounts_per_reseller_address=4,
                    jitter_seconds=14_400, window_hours=(16, 24), burst_spread_hours=72, benign_mix=0.35,
                    templates=5, paraphrases=40, invite_share=0.0, claimed_country_spread=True),
}


@dataclass(frozen=True)
class SimulationConfig:
    """Every parameter of one run; written verbatim to scenario.json."""

    scale: str
    seed: int
    evasion: str
    accounts: int
    days: int
    campaign_sizes: tuple[int, ...]
    # Target extraction requests per account, per campaign (published range 670-1,150).
    campaign_requests_per_account: tuple[int, ...]
    benign_mean_requests: float
    requests_format: str
    prompt_text: bool
    # Operator archetype of each campaign (archetypes.py); empty = every campaign a classic hydra, as before.
    archetypes: tuple[str, ...] = ()

    @property
    def text_prompts(self) -> bool:
        """Whether requests carry a prompt column: CSV worlds always, archetype worlds for free-text prompts."""
        return self.prompt_text or bool(self.archetypes)

    @property
    def start_epoch(self) -> int:
        return int(WINDOW_START.timestamp())

    @property
    def end_epoch(self) -> int:
        return self.start_epoch + self.days * 86_400

    @property
    def release_epoch(self) -> int:
        """When the new model ships: midnight UTC of the day at RELEASE_FRACTION of the window."""
        return self.start_epoch + int(self.days * RELEASE_FRACTION) * 86_400

    def describe(self) -> dict:
        """Parameters plus derived dates, for scenario.json."""
        data = asdict(self)
        data["start"] = iso_utc(self.start_epoch)
        data["end"] = iso_utc(self.end_epoch)
        data["model_release"] = iso_utc(self.release_epoch)
        # JSON has no infinity: an unbounded pool ("one per account") is written as null.
        data["evasion_knobs"] = {name: (None if value == float("inf") else value)
                                 for name, value in asdict(EVASION[self.evasion]).items()}
        return data


def iso_utc(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def config_for(scale: str, seed: int = 1, evasion: str = "low", campaigns: int | None = None,
               accounts: int | None = None, campaign_sizes: tuple[int, ...] | None = None,
               archetypes: str = "classic") -> SimulationConfig:
    """Build the configuration of a named scale, with optional overrides.

    ``accounts`` shrinks or grows the population and scales campaign sizes with it
    (used by tests for small, fast worlds); ``campaign_sizes`` replaces them outright.
    ``archetypes``: ``classic`` (the scale's hydra campaigns, as always), ``all`` (every operator archetype of
    archetypes.py, counts, sizes and knobs drawn from the seed) or a comma list of archetype names.
    """
    if scale not in SCALES:
        raise LinkwatchError(f"unknown scale {scale!r}: choose one of {', '.join(SCALES)}")
    if evasion not in EVASION:
        raise LinkwatchError(f"unknown evasion level {evasion!r}: choose one of {', '.join(EVASION)}")
    spec = SCALES[scale]
    count = spec.campaigns if campaigns is None else campaigns
    if count < 0 or count > 50:
        raise LinkwatchError(f"--campaigns must be between 0 and 50, got {count}")
    total = spec.accounts if accounts is None else accounts
    if total < 200:
        raise LinkwatchError(f"--accounts must be at least 200, got {total}")
    factor = total / spec.accounts
    rng = stream(seed, "campaign-targets")
    if campaign_sizes is not None:
        sizes = tuple(int(s) for s in campaign_sizes)
        targets = tuple(int(t) for t in rng.integers(700, 1_100, len(sizes)))
    else:
        flagship = spec.flagship if count > 0 else None
        others = count - (1 if flagship else 0)
        low, high = (max(5, round(s * factor)) for s in spec.campaign_sizes)
        sizes = tuple(int(round(s)) for s in np.geomspace(low, high, others)) if others > 1 else (
            (high,) if others == 1 else ())
        # Per-account targets drawn inside the published 670-1,150 range, kept off its edges
        # so the per-account spread stays inside it.
        targets = tuple(int(t) for t in rng.integers(700, 1_100, len(sizes)))
        if flagship:
            sizes = (max(5, round(flagship[0] * factor)),) + sizes
            targets = (flagship[1],) + targets
    chosen: tuple[str, ...] = ()
    days = spec.days
    if archetypes != "classic":
        from .archetypes import plan_archetypes

        chosen, sizes, targets, days = plan_archetypes(archetypes, stream(seed, "archetypes"), spec, total, campaigns,
                                                       campaign_sizes)
    if sum(sizes) > total // 2:
        raise LinkwatchError(
            f"campaigns need {sum(sizes)} accounts but the world has {total}: campaigns may use at most half of it")
    return SimulationConfig(
        scale=scale, seed=seed, evasion=evasion, accounts=total, days=days,
        campaign_sizes=sizes, campaign_requests_per_account=targets,
        benign_mean_requests=spec.benign_mean_requests, requests_format=spec.requests_format,
        prompt_text=spec.requests_format == "csv", archetypes=chosen)


def stream(seed: int, component: str, *keys: int) -> np.random.Generator:
    """An independent random stream per component (and chunk), stable across code changes elsewhere.

    Keyed by a CRC of the component name rather than spawn order, so adding a component
    does not shift the numbers of the others.
    """
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(component.encode()), *keys]))


def with_format(config: SimulationConfig, requests_format: str) -> SimulationConfig:
    """The same world written in another requests format (csv keeps prompt text)."""
    return replace(config, requests_format=requests_format, prompt_text=requests_format == "csv")
