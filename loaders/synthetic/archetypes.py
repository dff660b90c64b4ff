"""Operator archetypes beyond the classic hydra, for robustness worlds (``linkwatch simulate --archetypes``).

A detector tuned on one kind of operator fails on the next, so a robustness world plants several kinds,
each with its own tell-tales and its own way of hiding, every size, knob and time drawn from the seed:

  * ``hydra``    card-sharing hydra over sticky residential proxies (the classic campaign of campaigns.py,
                 with its card pool, jitter and job windows drawn per campaign);
  * ``hosting``  unique-card operator on hosting ranges: every account its own card, device and phone; all
                 traffic from one /22-/24 of a small hosting provider that no intel row marks as a proxy;
                 synchronised shifts in a narrow set of UTC hours; prompts are 2-4 fixed instruction
                 *wrappers* (each with light paraphrases) around varying random 8-15-word tasks, written as
                 text without a fingerprint, so templates must be mined from the text;
  * ``ring``     small device/referral ring: 15-40 accounts on 2-3 devices and 1-3 home addresses, created
                 within about an hour, each referred by one of the previous few (a referral chain), one
                 template (a wrapper or a fingerprinted template);
  * ``reseller`` a reseller service whose every account mixes operator extraction with 40-70 % real
                 customers' ordinary traffic, egressing through the reseller's hosting block;
  * ``slow``     slow operator spreading 45 days of traffic thinly: 2-8 extraction requests per account per
                 day over the whole window, wide job windows, hours of jitter.

``plan_archetypes`` decides which operators a world has (``config_for``); ``build_operator`` builds the
accounts, linkage and plan of one non-hydra operator (``campaigns.build_campaigns`` dispatches to it).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.errors import LinkwatchError

from . import accounts as acc
from .accounts import Accounts, Linkage
from .fmt import concat, hex_ids, pick

ARCHETYPES = ("hydra", "hosting", "ring", "reseller", "slow")
# How many operators of each archetype a world gets (inclusive range, drawn from the seed).
INSTANCES = {"hydra": (1, 3), "hosting": (1, 2), "ring": (1, 2), "reseller": (1, 1), "slow": (1, 1)}
RING_SIZE = (15, 40)  # accounts of a device/referral ring (not scaled with the world: a ring is small)
SLOW_DAYS = 45  # a world with a slow operator spans at least this many days
# Requests per account (target of the lognormal; the slow operator's is per day).
TARGETS = {"hydra": (700, 1_100), "hosting": (300, 1_100), "ring": (60, 400), "reseller": (700, 1_100),
           "slow": (2, 8)}

# Instruction wrappers: (capability, [(prefix, suffix) paraphrases]). Operators draw disjoint wrappers.
WRAPPERS = [
    ("analysis", [("You are a data labeler. Answer step by step: ", ". Return JSON."),
                  ("You are a data labeller. Answer step by step: ", ". Return JSON only."),
                  ("You are a data labeler. Answer step-by-step: ", ". Return the result as JSON.")]),
    ("reasoning", [("Think carefully and show all of your reasoning before answering. Task: ",
                    ". End with 'Final answer:' and the answer."),
                   ("Think carefully and show your full reasoning before you answer. Task: ",
                    ". End with 'Final answer:' followed by the answer."),
                   ("Think carefully, showing all reasoning before answering. Task: ",
                    ". Finish with 'Final answer:' and the answer.")]),
    ("rubric_grading", [("Act as an expert grader. Evaluate the following response against a rubric: ",
                         ". Give a score from 1 to 10 and justify each criterion."),
                        ("Act as an expert grader and evaluate this response against the rubric: ",
                         ". Give a 1-10 score and justify every criterion."),
                        ("Acting as an expert grader, evaluate the response below against a rubric: ",
                         ". Score it from 1 to 10 and justify each criterion.")]),
    ("coding", [("You are a senior software engineer. Write complete, tested code for this request: ",
                 ". Explain your design first, then give the code."),
                ("You are a senior software engineer. Write complete and tested code for the request: ",
                 ". Explain the design first and then give the code."),
                ("As a senior software engineer, write complete, tested code for this request: ",
                 ". Explain your design, then provide the code.")]),
    ("tool_use", [("You are an agent with tools search, python and browser. Plan and solve: ",
                   ". Emit every tool call as JSON with a short rationale."),
                  ("You are an agent with the tools search, python and browser. Plan and solve: ",
                   ". Emit each tool call as JSON with a brief rationale."),
                  ("As an agent with tools search, python and browser, plan and solve: ",
                   ". Emit every tool call as JSON plus a short rationale.")]),
    ("math", [("Solve the following problem and show every derivation step: ",
               ". Box the final answer."),
              ("Solve this problem and show every step of the derivation: ", ". Put the final answer in a box."),
              ("Solve the problem below, showing every derivation step: ", ". Box the final result.")]),
    ("writing", [("Rewrite the text below in a formal academic register, keeping every fact: ",
                  ". Then list the changes you made and why."),
                 ("Rewrite the following text in a formal academic register and keep every fact: ",
                  ". Then list each change you made and why."),
                 ("Rewrite this text in formal academic style, keeping all facts: ",
                  ". Afterwards list the changes and the reasons.")]),
    ("summarization", [("Summarize the passage for an expert audience in five bullet points: ",
                        ". Add a one-sentence critique at the end."),
                       ("Summarise the passage for an expert audience in five bullet points: ",
                        ". Add a one-sentence critique at the end."),
                       ("Summarize this passage for expert readers in five bullet points: ",
                        ". End with a one-sentence critique.")]),
    ("translation", [("Translate into French, German and Japanese, then explain each idiom you changed: ",
                      ". Output a table with one row per language."),
                     ("Translate into French, German and Japanese and explain every idiom you changed: ",
                      ". Output a table, one row per language."),
                     ("Translate to French, German and Japanese, then explain each changed idiom: ",
                      ". Return a table with a row per language.")]),
    ("analysis", [("Classify the intent and sentiment of the following customer message: ",
                   ". Answer with intent, sentiment and a confidence between 0 and 1."),
                  ("Classify the intent and the sentiment of this customer message: ",
                   ". Answer with intent, sentiment and a confidence from 0 to 1."),
                  ("Classify intent and sentiment for the customer message below: ",
                   ". Reply with intent, sentiment and confidence between 0 and 1.")]),
    ("reasoning", [("Generate a hard question and its detailed step-by-step solution about: ",
                    ". Format as Question: ... Solution: ..."),
                   ("Generate a difficult question with a detailed step-by-step solution about: ",
                    ". Format it as Question: ... Solution: ..."),
                   ("Write a hard question and its detailed step by step solution about: ",
                    ". Use the format Question: ... Solution: ...")]),
    ("chat", [("Role-play as a patient tutor and respond to the student who says: ",
               ". Ask one follow-up question at the end."),
              ("Role-play as a patient tutor and reply to a student who says: ",
               ". Ask a single follow-up question at the end."),
              ("Role-play a patient tutor responding to the student who says: ", ". End with one follow-up question.")]),
]
# Varying payloads: a verb and 7-14 words from a plain vocabulary (no two tasks alike).
TASK_VERBS = ["explain", "compare", "describe", "classify", "estimate", "plan", "evaluate", "outline", "predict",
              "summarize", "list", "design", "critique", "rank", "justify", "model", "derive", "check"]
TASK_WORDS = (
    "the a of for with about between under after before during across into from on this that each every "
    "river market engine garden protein orbit ledger theorem harbor climate vaccine circuit novel tariff "
    "battery glacier contract sensor pipeline invoice migration algorithm reactor forest bridge budget "
    "election telescope enzyme satellite warehouse tunnel festival museum factory recipe monsoon volcano "
    "railway insurance mortgage antibiotic galaxy password compiler database neuron fossil symphony "
    "drought harvest parliament startup currency asteroid bacteria pension treaty canal dialect lantern "
    "quarry reef saddle timber vessel whistle yeast zeolite auction beacon cobalt dynamo ferry granite "
    "hostel inkwell jasmine kiln lagoon meadow nectar oyster pulley quartz rudder spindle tapestry "
    "umbrella valve walnut xylem yacht zenith small large early late urban rural rapid slow ancient modern "
    "local global fragile robust hidden public private seasonal annual weekly chemical digital manual "
    "coastal arctic tropical financial medical legal rising falling stable uneven two three four several "
    "many few first second last possible likely unusual typical optimal cheaper faster safer stronger").split()


@dataclass
class WrapperFamily:
    """An operator's wrappers: (prefix, suffix) per (template, paraphrase), row-major, and template weights."""

    capability: np.ndarray  # (templates,) capability index
    weight_cum: np.ndarray
    prefixes: list[str]
    suffixes: list[str]
    paraphrases: int
    bases: list[int]  # index into WRAPPERS of each template

    def texts(self) -> list[str]:
        """Every wrapper variant with ``<task>`` where the payload goes (for scenario.json and tests)."""
        return [f"{p}<task>{s}" for p, s in zip(self.prefixes, self.suffixes)]

    def generate(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, pa.Array]:
        """(capability, text) of ``n`` wrapped prompts: a wrapper variant around a fresh random task."""
        template = np.searchsorted(self.weight_cum, rng.random(n) * self.weight_cum[-1], side="right")
        template = template.clip(0, len(self.capability) - 1)
        variant = template * self.paraphrases + rng.integers(self.paraphrases, size=n)
        length = rng.integers(8, 16, size=n)  # words in the task, the verb included
        words = [pick(TASK_VERBS, rng.integers(len(TASK_VERBS), size=n))]
        for position in range(1, 15):
            column = pick(TASK_WORDS, rng.integers(len(TASK_WORDS), size=n))
            words.append(pc.if_else(pa.array(position < length), column, pa.scalar(None, pa.string())))
        task = pc.binary_join_element_wise(*words, " ", null_handling="skip")
        return self.capability[template], concat(pick(self.prefixes, variant), task, pick(self.suffixes, variant))


def wrapper_family(rng: np.random.Generator, bases: list[int], capabilities: dict[str, int]) -> WrapperFamily:
    """A family over the given WRAPPERS entries, each with all its paraphrases, weighted at random."""
    paraphrases = min(len(WRAPPERS[b][1]) for b in bases)
    prefixes, suffixes = [], []
    for b in bases:
        for prefix, suffix in WRAPPERS[b][1][:paraphrases]:
            prefixes.append(prefix)
            suffixes.append(suffix)
    return WrapperFamily(capability=np.array([capabilities[WRAPPERS[b][0]] for b in bases]),
                         weight_cum=np.cumsum(rng.dirichlet(np.full(len(bases), 3.0))), prefixes=prefixes,
                         suffixes=suffixes, paraphrases=paraphrases, bases=list(bases))


def parse(choice: str) -> list[str]:
    """The archetypes named by ``--archetypes`` (``all`` or a comma list)."""
    if choice == "all":
        return list(ARCHETYPES)
    names = [name.strip() for name in choice.split(",") if name.strip()]
    unknown = [name for name in names if name not in ARCHETYPES]
    if unknown or not names:
        raise LinkwatchError(f"--archetypes: unknown archetype {', '.join(map(repr, unknown)) or repr(choice)}: "
                             f"use classic, all or a comma list of {', '.join(ARCHETYPES)}")
    return list(dict.fromkeys(names))


def plan_archetypes(choice: str, rng: np.random.Generator, spec, total: int, count: int | None,
                    campaign_sizes: tuple[int, ...] | None) -> tuple[tuple[str, ...], tuple[int, ...],
                                                                     tuple[int, ...], int]:
    """(archetype per operator, sizes, requests-per-account targets, days) of an archetype world.

    Sizes are log-uniform between the scale's smallest and largest campaign (scaled with ``total``), rings
    15-40 accounts; if the operators would take more than a third of the world they shrink together.
    """
    if campaign_sizes is not None or count is not None:
        raise LinkwatchError("--campaigns and campaign sizes apply to --archetypes classic only: an archetype "
                             "world draws its operators from the seed")
    kinds = parse(choice)
    days = max(spec.days, SLOW_DAYS) if "slow" in kinds else spec.days
    factor = total / spec.accounts
    low, high = (max(5, round(s * factor)) for s in spec.campaign_sizes)
    names: list[str] = []
    for kind in kinds:
        lo, hi = INSTANCES[kind]
        names += [kind] * int(rng.integers(lo, hi + 1))
    order = rng.permutation(len(names))  # campaign numbers do not give the archetype away
    names = [names[i] for i in order]
    sizes = np.array([rng.integers(RING_SIZE[0], RING_SIZE[1] + 1) if kind == "ring"
                      else np.exp(rng.uniform(np.log(low), np.log(high))) for kind in names])
    scalable = np.array([kind != "ring" for kind in names])
    budget = total // 3 - sizes[~scalable].sum()
    if sizes[scalable].sum() > budget > 0:
        sizes[scalable] *= budget / sizes[scalable].sum()
    sizes = np.maximum(5, np.round(sizes)).astype(int)
    targets = []
    for kind in names:
        lo, hi = TARGETS[kind]
        targets.append(int(rng.integers(lo, hi + 1)) * (days if kind == "slow" else 1))
    return tuple(names), tuple(int(s) for s in sizes), tuple(targets), days


@dataclass
class OperatorSetup:
    """What one non-hydra operator looks like, drawn from the seed; written to scenario.json."""

    span_days: tuple[int, int]
    created: np.ndarray
    window_start: np.ndarray
    window_hours: np.ndarray
    jitter_seconds: float
    per_account_sigma: float
    ordinary_share: tuple[float, float]
    notes: dict


def setup(kind: str, rng: np.random.Generator, days: int, start_epoch: int, size: int) -> OperatorSetup:
    """Span, creation times, shifts and volume spread of one operator of ``kind``."""
    if kind == "slow":
        span = (0, days)
    elif kind == "ring":
        first = int(rng.integers(0, max(1, days - 12)))
        span = (first, min(days, first + int(rng.integers(7, 21))))
    else:
        first = int(rng.integers(0, max(1, days // 4)))
        span = (first, days if rng.random() < 0.7 else int(rng.uniform(0.75, 1.0) * days))
    start, end = start_epoch + span[0] * 86_400, start_epoch + span[1] * 86_400
    notes: dict = {}
    if kind == "ring":
        # One sitting: every account created within about an hour, in order (the referral chain).
        minutes = float(rng.uniform(30, 70))
        origin = rng.uniform(start - 5 * 86_400, start)
        created = origin + np.sort(rng.random(size)) * minutes * 60
        notes["creation_minutes"] = round(minutes, 1)
    elif kind == "reseller":
        # A reseller accumulates accounts over months.
        created = start - rng.random(size) * rng.uniform(60, 240) * 86_400
    else:
        bursts = int(rng.integers(1, 5))
        spread = float(rng.choice([1, 6, 24, 72]))
        burst_at = rng.uniform(start - 20 * 86_400, start + 0.3 * (end - start), bursts)
        created = burst_at[rng.integers(bursts, size=size)] + rng.random(size) * spread * 3_600
        notes.update(creation_bursts=bursts, burst_hours=spread)
    created = np.minimum(created, end - 2 * 86_400).astype(np.int64)
    hours = {"hosting": (3, 8), "ring": (6, 12), "reseller": (10, 20), "slow": (16, 24)}[kind]
    windows = int(rng.integers(1, 3 if kind in ("hosting", "ring") else 4))
    window_hours = rng.dirichlet(np.ones(windows) * 3) * rng.uniform(*hours)
    jitter = {"hosting": (300, 1_200), "ring": (1_800, 3_600), "reseller": (3_600, 7_200),
              "slow": (7_200, 14_400)}[kind]
    sigma = {"hosting": (0.08, 0.3), "ring": (0.2, 0.4), "reseller": (0.15, 0.35), "slow": (0.2, 0.35)}[kind]
    ordinary = {"hosting": (0.0, 0.1), "ring": (0.05, 0.2), "reseller": (0.4, 0.7), "slow": (0.1, 0.35)}[kind]
    return OperatorSetup(span, created, rng.uniform(0, 24, windows), window_hours, float(rng.uniform(*jitter)),
                         float(rng.uniform(*sigma)), ordinary, notes)


def identifiers(kind: str, rng: np.random.Generator, size: int) -> tuple[dict[str, np.ndarray], dict]:
    """Card, device and phone keys per account for ``kind``, and what was drawn (for scenario.json)."""
    def unique() -> np.ndarray:
        return rng.integers(1, 2**63, size, dtype=np.uint64)

    def pooled(keys: int) -> np.ndarray:
        return rng.integers(1, 2**63, max(1, keys), dtype=np.uint64)[rng.integers(max(1, keys), size=size)]

    notes: dict = {}
    if kind == "hosting":
        keys = {"card": unique(), "device": unique(), "phone": unique()}
    elif kind == "ring":
        devices = int(rng.integers(2, 4))
        keys = {"card": unique(), "device": pooled(devices), "phone": pooled(int(rng.integers(2, 5)))}
        notes["devices"] = devices
    elif kind == "reseller":
        per_card = float(rng.uniform(5, 25))
        keys = {"card": pooled(int(np.ceil(size / per_card))), "device": unique(), "phone": pooled(size // 10)}
        notes["accounts_per_card"] = round(per_card, 1)
    else:  # slow: a card pool or unique cards, drawn
        per_card = float(rng.choice([1.0, rng.uniform(3, 12)]))
        keys = {"card": unique() if per_card == 1 else pooled(int(np.ceil(size / per_card))),
                "device": unique(), "phone": unique()}
        notes["accounts_per_card"] = round(per_card, 1)
    return keys, notes


def referral_chain(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(referrer, referred): each account after the first referred by one of the previous three."""
    referred = np.arange(1, size)
    back = rng.integers(1, 4, size=len(referred))
    return np.maximum(0, referred - back), referred


def claimed_countries(kind: str, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Claimed country and UTC offset: one country for hosting and ring operators, the honest mix otherwise."""
    if kind in ("hosting", "ring"):
        claimed = int(rng.choice(len(acc.COUNTRIES), p=acc.COUNTRY_SHARE))
        country = np.where(rng.random(size) < 0.9, claimed, rng.choice(len(acc.COUNTRIES), size, p=acc.COUNTRY_SHARE))
        return country, acc.country_offsets(rng, country)
    return acc.draw_countries(rng, size)


def consumer_emails(rng: np.random.Generator, size: int, first_number: int, first: list[str], last: list[str],
                    domains: list[str]) -> pa.Array:
    return concat(pick(first, rng.integers(len(first), size=size)), ".",
                  pick(last, rng.integers(len(last), size=size)),
                  pa.array(first_number + rng.permutation(size) + 1).cast(pa.string()), "@",
                  pick(domains, rng.integers(len(domains), size=size)))


def block(created: np.ndarray, email: pa.Array, country: np.ndarray, tz: np.ndarray, plan: np.ndarray,
          persona: np.ndarray, n_ordinary: np.ndarray, n_extract: np.ndarray, index: int, role: int,
          pool_primary: np.ndarray, pool_anon: np.ndarray, p_anon: np.ndarray, switch_days: float,
          active_from: np.ndarray) -> Accounts:
    size = len(created)
    return Accounts(
        created_at=created, email=email, org=pa.nulls(size, pa.string()), country=country,
        tz=tz.astype(np.float32), plan=plan.astype(np.int8), profile=np.full(size, acc.PERSONAL, np.int8),
        persona=persona, n_ordinary=n_ordinary, n_extract=n_extract, campaign=np.full(size, index, np.int16),
        role=np.full(size, role, np.int8), segment=np.full(size, 5, np.int8), group=pa.nulls(size, pa.string()),
        pool_primary=pool_primary, pool_mobile=np.full(size, -1, np.int32), pool_anon=pool_anon,
        p_mobile=np.zeros(size, np.float32), p_anon=p_anon, adopt_delay_days=np.full(size, switch_days, np.float32),
        active_from=active_from)


def no_fingerprint(n: int) -> np.ndarray:
    """Fingerprint 0 marks a request written without ``prompt_fingerprint`` (templates are mined from text)."""
    return np.zeros(n, np.uint64)


def null_fingerprints(fingerprints: np.ndarray) -> pa.Array:
    """``sh_`` + 16 hex digits, null where the fingerprint is 0."""
    text = hex_ids("sh_", fingerprints, 16)
    return pc.if_else(pa.array(fingerprints == 0), pa.scalar(None, pa.string()), text)
