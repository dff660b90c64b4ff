"""Request traffic, generated vectorised one chunk of accounts at a time (bounded memory).

Ordinary use (honest accounts, reseller customers, the benign-looking share of campaign
accounts) follows the account's local time: sessions placed by a weekly rhythm and a diurnal
profile per activity profile. Power users run flat 24/7 with cron spikes. Extraction traffic
follows its campaign: the same day-level intensity and the same daily UTC job windows for
every account, blurred by the evasion level's jitter.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa

from . import accounts as acc
from .accounts import Accounts, Linkage
from .archetypes import no_fingerprint, null_fingerprints
from .campaigns import INPUT_SIGMA, OUTPUT_SIGMA, CampaignPlan
from .config import SimulationConfig
from .fmt import hex_ids, ip_strings, iso_strings
from .prompts import CAPABILITIES, PERSONAS, PromptBank

MODELS = ["atlas-2", "atlas-3", "atlas-3-mini", "atlas-4"]  # atlas-4 is released inside the window
NEW_MODEL = 3
HONEST_MODEL_MIX = [0.05, 0.60, 0.35]  # atlas-2 / atlas-3 / atlas-3-mini before adopting atlas-4
ADOPTED_SHARE = 0.55  # an adopter's share of requests on the new model
CAMPAIGN_MAIN_MODEL_SHARE = 0.85  # campaigns target the flagship model, some mini
# Weekly rhythm, Monday..Sunday, per activity profile: work is weekday-heavy, personal use
# peaks at weekends, students in between.
WEEKLY = {acc.WORK: [1, 1, 1, 1, 0.95, 0.35, 0.3], acc.PERSONAL: [0.9, 0.9, 0.9, 0.9, 0.95, 1.25, 1.25],
          acc.STUDENT: [1, 1, 1, 1, 0.9, 0.7, 0.9]}
# Diurnal profile (local hour 0..23): office hours with a lunch dip; evenings; late nights.
DIURNAL = {
    acc.WORK: [1, 0.5, 0.3, 0.3, 0.3, 0.5, 1, 3, 7, 10, 10, 9, 6, 8, 10, 10, 9, 7, 4, 3, 2.5, 2, 1.5, 1],
    acc.PERSONAL: [3, 2, 1, 0.6, 0.4, 0.4, 0.8, 2, 3, 3.5, 4, 4.5, 5, 5, 4.5, 4.5, 5, 5.5, 6.5, 8, 9, 9, 7, 5],
    acc.STUDENT: [6, 5, 3, 1.5, 0.8, 0.5, 0.5, 1, 2.5, 4, 5, 5.5, 5, 5.5, 6, 6, 5.5, 5, 5, 6, 7, 8, 8.5, 7.5],
}
SESSION_REQUESTS = {acc.WORK: 6, acc.PERSONAL: 4, acc.STUDENT: 5}  # mean requests per session
SESSION_MINUTES, SESSION_SIGMA = 20, 0.8  # session length: lognormal, median 20 minutes
CRON_SHARE, CRON_PERIODS = 0.4, np.array([300, 600, 900, 3_600])  # service traffic on a timer
# Tokens: lognormal (median, sigma). Free text varies a lot; service payloads (diffs, tool
# traces) are long; extraction medians are per campaign with narrow sigma (campaigns.py).
HONEST_INPUT, HONEST_OUTPUT, HONEST_TOKEN_SIGMA = 120, 350, 0.9
SERVICE_INPUT, SERVICE_OUTPUT, SERVICE_TOKEN_SIGMA = 1_800, 400, 0.6


@dataclass
class Traffic:
    """Per-account inputs of request generation, shared by every chunk."""

    cfg: SimulationConfig
    accounts: Accounts
    campaigns: list[CampaignPlan]
    bank: PromptBank
    pool_addresses: np.ndarray
    pool_start: np.ndarray
    pool_length: np.ndarray
    account_ids: pa.Array
    api_keys: pa.Array
    # epoch seconds: end of each row's activity (the world's end, or the moment a fleet left its old setup)
    active_until: np.ndarray

    def chunk(self, rng: np.random.Generator, positions: np.ndarray) -> pa.Table:
        """All requests of the accounts at ``positions``, sorted by time."""
        a = self.accounts
        ordinary_owner = np.repeat(np.arange(len(positions)), a.n_ordinary[positions])
        extract_owner = np.repeat(np.arange(len(positions)), a.n_extract[positions])
        text = self.cfg.text_prompts
        o_ts = self._ordinary_times(rng, positions, ordinary_owner)
        # archetype worlds: free text travels as text alone, so templates are mined from it (docs/simulator.md)
        o_cap, o_fp, o_text = self.bank.benign(rng, a.persona[positions][ordinary_owner], text,
                                               free_text_fingerprints=not self.cfg.archetypes)
        o_model = self._honest_models(rng, positions[ordinary_owner], o_ts)
        service = a.persona[positions][ordinary_owner] >= PERSONAS
        o_in = _tokens(rng, np.where(service, SERVICE_INPUT, HONEST_INPUT), np.where(service, SERVICE_TOKEN_SIGMA,
                                                                                    HONEST_TOKEN_SIGMA))
        o_out = _tokens(rng, np.where(service, SERVICE_OUTPUT, HONEST_OUTPUT), np.where(service, SERVICE_TOKEN_SIGMA,
                                                                                       HONEST_TOKEN_SIGMA))
        e = self._extraction(rng, positions, extract_owner)
        owner = np.concatenate([ordinary_owner, e["owner"]])
        ts = np.concatenate([o_ts, e["ts"]])
        order = np.argsort(ts, kind="stable")
        owner, ts = owner[order], ts[order]
        address = self._addresses(rng, positions[owner])
        columns = {
            "ts": pa.array(ts) if self.cfg.requests_format == "parquet" else iso_strings(ts),
            "account_id": _dictionary(owner, self.account_ids.take(pa.array(positions))),
            "ip": ip_strings(address),
            "api_key": _dictionary(owner, self.api_keys.take(pa.array(positions))),
            "model": _dictionary(np.concatenate([o_model, e["model"]])[order], pa.array(MODELS)),
            "input_tokens": pa.array(np.concatenate([o_in, e["input"]])[order]),
            "output_tokens": pa.array(np.concatenate([o_out, e["output"]])[order]),
        }
        if text:
            columns["prompt"] = pa.concat_arrays([o_text, e["text"]]).take(pa.array(order))
        fingerprints = np.concatenate([o_fp, e["fingerprint"]])[order]
        columns["prompt_fingerprint"] = (null_fingerprints(fingerprints) if self.cfg.archetypes
                                         else hex_ids("sh_", fingerprints, 16))
        columns["capability"] = _dictionary(np.concatenate([o_cap, e["capability"]])[order], pa.array(CAPABILITIES))
        return pa.table(columns)

    def _ordinary_times(self, rng: np.random.Generator, positions: np.ndarray, owner: np.ndarray) -> np.ndarray:
        """Session-based local-time activity; flat 24/7 with cron spikes for service accounts."""
        a = self.accounts
        counts = np.bincount(owner, minlength=len(positions))
        profile = a.profile[positions]
        ts = np.empty(len(owner), np.int64)
        active_from = a.active_from[positions]
        until = self.active_until[positions]
        flat = profile[owner] == acc.SERVICE
        if flat.any():
            lo = active_from[owner[flat]]
            when = lo + (rng.random(int(flat.sum())) * (until[owner[flat]] - lo)).astype(np.int64)
            period = CRON_PERIODS[rng.integers(len(CRON_PERIODS), size=len(positions))][owner[flat]]
            cron = rng.random(len(when)) < CRON_SHARE
            when[cron] = when[cron] - when[cron] % period[cron] + rng.integers(0, 30, int(cron.sum()))
            ts[flat] = when
        session_length = np.array([SESSION_REQUESTS.get(p, 1) for p in range(4)])[profile]
        sessions = np.where(profile == acc.SERVICE, 0, -(-counts // session_length))
        session_owner = np.repeat(np.arange(len(positions)), sessions)
        start = self._session_starts(rng, positions, session_owner)
        duration = rng.lognormal(np.log(SESSION_MINUTES * 60), SESSION_SIGMA, len(start))
        first_session = np.concatenate([[0], np.cumsum(sessions)[:-1]])
        timed = ~flat
        pick = first_session[owner[timed]] + (rng.random(int(timed.sum())) * sessions[owner[timed]]).astype(np.int64)
        ts[timed] = start[pick] + (rng.random(len(pick)) * duration[pick]).astype(np.int64)
        return self._inside(rng, ts, active_from[owner], until[owner])

    def _session_starts(self, rng: np.random.Generator, positions: np.ndarray, session_owner: np.ndarray
                        ) -> np.ndarray:
        """Session start times: day by weekly rhythm from the account's first active day, hour by local diurnal."""
        a, cfg = self.accounts, self.cfg
        first_dow = datetime.fromtimestamp(cfg.start_epoch, timezone.utc).weekday()
        account = positions[session_owner]
        profile = a.profile[account]
        first_day = (a.active_from[account] - cfg.start_epoch) // 86_400
        last_day = self._last_day(account)
        start = np.empty(len(session_owner), np.int64)
        for kind, weekly in WEEKLY.items():
            mine = np.flatnonzero(profile == kind)
            if not len(mine):
                continue
            day_weight = np.array(weekly)[(first_dow + np.arange(cfg.days)) % 7]
            cum = np.concatenate([[0.0], np.cumsum(day_weight)])
            lo = cum[first_day[mine]]
            day = np.searchsorted(cum, lo + rng.random(len(mine)) * (cum[last_day[mine]] - lo), side="right") - 1
            hourly = np.array(DIURNAL[kind]) / sum(DIURNAL[kind])
            hour = rng.choice(24, len(mine), p=hourly) + rng.random(len(mine))
            start[mine] = cfg.start_epoch + day * 86_400 + ((hour - a.tz[account[mine]]) * 3_600).astype(np.int64)
        return start

    def _extraction(self, rng: np.random.Generator, positions: np.ndarray, owner: np.ndarray) -> dict:
        """Extraction requests of every campaign account in the chunk, campaign by campaign."""
        a, cfg = self.accounts, self.cfg
        campaign = a.campaign[positions][owner]
        parts = []
        for plan in self.campaigns:
            mine = np.flatnonzero(campaign == plan.index)
            if not len(mine):
                continue
            who = owner[mine]
            active_from = a.active_from[positions[who]]
            until = self.active_until[positions[who]]
            cum = np.concatenate([[0.0], np.cumsum(plan.day_intensity)])
            lo = cum[(active_from - cfg.start_epoch) // 86_400]
            hi = cum[self._last_day(positions[who])]
            day = np.searchsorted(cum, lo + rng.random(len(mine)) * (hi - lo), side="right") - 1
            window = np.searchsorted(np.cumsum(plan.window_hours), rng.random(len(mine)) * plan.window_hours.sum(),
                                     side="right").clip(0, len(plan.window_hours) - 1)
            hour = plan.window_start_hours[window] + rng.random(len(mine)) * plan.window_hours[window]
            ts = (cfg.start_epoch + day * 86_400 + (hour * 3_600).astype(np.int64)
                  + rng.normal(0, plan.jitter_seconds, len(mine)).astype(np.int64))
            ts = self._inside(rng, ts, active_from, np.minimum(plan.end_epoch, until))
            model = np.where(rng.random(len(mine)) < CAMPAIGN_MAIN_MODEL_SHARE, 1, 2)
            model[(ts >= plan.switch_epoch) & (rng.random(len(mine)) < plan.switch_share)] = NEW_MODEL
            if plan.wrappers is not None:
                capability, text = plan.wrappers.generate(rng, len(mine))
                fingerprint = no_fingerprint(len(mine))
                text = text if cfg.text_prompts else None
            else:
                capability, fingerprint, text = PromptBank.extraction(rng, plan.family, len(mine), cfg.text_prompts)
            parts.append({
                "owner": who, "ts": ts, "model": model, "capability": capability, "fingerprint": fingerprint,
                "text": text, "input": _tokens(rng, np.full(len(mine), plan.input_median), INPUT_SIGMA),
                "output": _tokens(rng, np.full(len(mine), plan.output_median), OUTPUT_SIGMA),
            })
        if not parts:
            empty = np.zeros(0, np.int64)
            return {"owner": empty, "ts": empty, "model": empty, "capability": empty,
                    "fingerprint": np.zeros(0, np.uint64), "input": empty, "output": empty,
                    "text": pa.array([], pa.string())}
        merged = {key: np.concatenate([p[key] for p in parts]) for key in parts[0] if key != "text"}
        merged["text"] = pa.concat_arrays([p["text"] for p in parts]) if cfg.text_prompts else None
        return merged

    def _last_day(self, account: np.ndarray) -> np.ndarray:
        """Days of the window that are (partly) inside each row's activity: day indexes < this may be drawn."""
        return np.minimum(self.cfg.days, -(-(self.active_until[account] - self.cfg.start_epoch) // 86_400))

    def _honest_models(self, rng: np.random.Generator, account: np.ndarray, ts: np.ndarray) -> np.ndarray:
        model = rng.choice(3, len(ts), p=HONEST_MODEL_MIX)
        adopted = ts >= self.cfg.release_epoch + self.accounts.adopt_delay_days[account].astype(np.float64) * 86_400
        model[adopted & (rng.random(len(ts)) < ADOPTED_SHARE)] = NEW_MODEL
        return model

    def _addresses(self, rng: np.random.Generator, account: np.ndarray) -> np.ndarray:
        """Egress address per request: anonymiser, mobile or primary pool, then a random member."""
        return pick_addresses(rng, self.accounts, account, self.pool_addresses, self.pool_start, self.pool_length)

    @staticmethod
    def _inside(rng: np.random.Generator, ts: np.ndarray, lo: np.ndarray, hi: int | np.ndarray) -> np.ndarray:
        """Keep times inside [lo, hi): wrap by a day first (keeps the daily rhythm), then redraw stragglers."""
        ts = np.where(ts < lo, ts + 86_400, ts)
        ts = np.where(ts >= hi, ts - 86_400, ts)
        bad = (ts < lo) | (ts >= hi)
        if bad.any():
            lo_bad = np.broadcast_to(lo, ts.shape)[bad]
            hi_bad = np.broadcast_to(hi, ts.shape)[bad]
            ts[bad] = lo_bad + (rng.random(int(bad.sum())) * np.maximum(1, hi_bad - lo_bad)).astype(np.int64)
        return ts


def pick_addresses(rng: np.random.Generator, accounts: Accounts, account: np.ndarray, addresses: np.ndarray,
                   start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """One egress address per event of ``account``: channel by the account's shares, member uniformly."""
    u = rng.random(len(account))
    p_anon, p_mobile = accounts.p_anon[account], accounts.p_mobile[account]
    pool = accounts.pool_primary[account].copy()
    anon = (u < p_anon) & (accounts.pool_anon[account] >= 0)
    mobile = ~anon & (u < p_anon + p_mobile) & (accounts.pool_mobile[account] >= 0)
    pool[anon] = accounts.pool_anon[account][anon]
    pool[mobile] = accounts.pool_mobile[account][mobile]
    return addresses[start[pool] + (rng.random(len(account)) * length[pool]).astype(np.int64)]


def ip_links(rng: np.random.Generator, cfg: SimulationConfig, accounts: Accounts, addresses: np.ndarray,
             start: np.ndarray, length: np.ndarray) -> Linkage:
    """``ip`` links: the signup address and the most-used login address of every account."""
    n = len(accounts)
    everyone = np.arange(n)
    signup = pick_addresses(rng, accounts, everyone, addresses, start, length)
    login = pick_addresses(rng, accounts, everyone, addresses, start, length)
    created = accounts.created_at
    last = np.maximum(accounts.active_from, cfg.end_epoch - (rng.random(n) * 3 * 86_400).astype(np.int64))
    logins = 1 + (accounts.n_ordinary + accounts.n_extract) // 10
    same = signup == login
    linkage = Linkage()
    linkage.link("ip", everyone, ip_strings(signup), created, np.where(same, last, created),
                 np.where(same, logins + 1, 1))
    other = ~same
    linkage.link("ip", everyone[other], ip_strings(login[other]), accounts.active_from[other],
                 last[other], logins[other])
    return linkage


def _tokens(rng: np.random.Generator, median: np.ndarray, sigma: float | np.ndarray) -> np.ndarray:
    return np.maximum(1, rng.lognormal(np.log(median), sigma)).astype(np.int32)


def _dictionary(indices: np.ndarray, dictionary: pa.Array) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(np.asarray(indices, dtype=np.int32)), dictionary)
