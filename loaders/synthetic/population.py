"""The honest population: most accounts, with the honest linkage a naive detector flags.

Segments (shares of honest accounts) and why they matter:
  * employees (18 %) of companies sized 5-500 (truncated Pareto, alpha 1.1): one corporate
    NAT range, often one corporate card and billing mailbox, one org name, admin invites and
    an onboarding creation burst - a legitimate cluster as large as a small campaign;
  * students (10 %) at universities (a campus NAT of 64 addresses), in study groups of 3-8
    that share a group card (40 %) or a lab machine (20 %);
  * households (the rest; size 1-6, 45 % live alone) sharing a home IP, often a card (55 %),
    sometimes a device (25 %) or phone (10 %);
  * power users (0.1 %, at least 8): CI pipelines and agent products, in small orgs sharing a
    card and cloud addresses, with very high, flat, 24/7 volume and a narrow capability mix.
Across segments: 55 % use a phone network (carrier CGNAT: thousands of strangers per address),
6 % a consumer VPN, 0.3 % a residential proxy network (the same networks campaigns use), 0.05 % Tor.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import accounts as acc
from .accounts import Accounts, Linkage
from .config import SimulationConfig
from .fmt import concat, hex_ids, pick
from .network import ASN_COMPANY, CARRIERS, CLOUDS, AddressPlan, Egress
from .prompts import PERSONAS, PromptBank
from .sampling import fill_groups, first_of_group, groups_of, lognormal_with_mean, truncated_pareto

SERVICE_SHARE, SERVICE_MIN = 0.001, 8
EMPLOYEE_SHARE = 0.18
STUDENT_SHARE = 0.10
COMPANY_SIZE = (5, 500, 1.1)  # min, max, Pareto alpha: many small firms, a few with hundreds
# The largest company holds a third of the employees (capped at 500) so every world has a
# corporate cluster bigger than its smallest campaign.
ANCHOR_COMPANY_SHARE = 1 / 3
CORPORATE_CARD_SHARE = 0.8  # companies paying for all seats with one card
OWN_ASN_EMPLOYEES = 100  # companies this large announce their own AS
ONBOARDING_BURST_SHARE = 0.6  # employees created within two days of the company's onboarding
HOUSEHOLD_SIZE_P = np.array([0.45, 0.25, 0.14, 0.10, 0.04, 0.02])  # sizes 1..6
HOUSEHOLD_SHARING = {"card": 0.55, "device": 0.25, "phone": 0.10}  # among multi-person households
FAMILY_SHARE, FAMILY_JOIN_GAP_DAYS = 0.5, (7, 90)  # robustness worlds: families joining over months
STUDENTS_PER_UNIVERSITY = 1_500
STUDENT_GROUP = (3, 8)
STUDENT_SHARING = {"card": 0.40, "device": 0.20}
MOBILE_USERS, MOBILE_ONLY = 0.55, 0.08
# Carrier CGNAT: one public address per this many subscribers (at least 2 per carrier),
# so each address is shared by hundreds to thousands of unrelated accounts at every scale.
CGNAT_SUBSCRIBERS_PER_ADDRESS = 800
VPN_USERS, RESIDENTIAL_PROXY_USERS, TOR_USERS = 0.06, 0.003, 0.0005
# Account age: exponential with mean 400 days (older than 4 years: uniform in 0-4 years, the
# service's lifetime); 8 % sign up inside the window.
ACCOUNT_AGE_DAYS, MAX_AGE_DAYS, NEW_SIGNUP_SHARE = 400, 4 * 365, 0.08
# Requests per ordinary account: lognormal with the scale's mean and sigma 1.4 - median is a
# third of the mean, the top 1 % send ~15x the mean.
REQUESTS_SIGMA = 1.4
SEGMENT_ACTIVITY = {acc.WORK: 1.2, acc.PERSONAL: 1.0, acc.STUDENT: 0.9}
# Power users: requests per day lognormal (median 100, sigma 0.8), all day, every day.
SERVICE_DAILY_MEDIAN, SERVICE_DAILY_SIGMA = 100, 0.8
ADOPTERS, ADOPTION_DAYS = 0.65, 8.0  # honest users reach the new model over weeks
PINNED_SERVICE = 0.7  # CI pipelines pin a model version and never switch
FRIEND_REFERRALS = 0.03
PHONE_USERS = 0.55
FREE_WITH_CARD = 0.2

FIRST = ["ana", "ben", "chen", "dara", "eli", "fatima", "gus", "hana", "ivan", "jo", "kai", "lena", "marco",
         "nia", "omar", "priya", "quinn", "rosa", "sam", "tara", "uma", "vik", "wen", "xavi", "yuki", "zoe",
         "li", "amir", "sofia", "lucas", "mei", "noah", "ines", "raj", "emma", "kofi", "lars", "ayla", "diego", "nora"]
LAST = ["smith", "garcia", "kim", "nguyen", "mueller", "rossi", "tanaka", "silva", "patel", "cohen", "ivanova",
        "okafor", "dubois", "jensen", "novak", "lopez", "khan", "wang", "sato", "brown", "costa", "meyer", "ali",
        "haddad", "berg", "moreau", "park", "reyes", "singh", "walker"]
CONSUMER_DOMAINS = ["mail.example.com", "inbox.example.net", "post.example.org", "webmail.example.com"]
CONSUMER_DOMAIN_P = [0.5, 0.25, 0.15, 0.10]
COMPANY_WORDS = (["Blue", "Bright", "Cedar", "Delta", "Ember", "Frost", "Granite", "Harbor", "Iron", "Juniper",
                  "Kite", "Lumen", "Maple", "North", "Onyx", "Pine", "Quartz", "River", "Summit", "Tidal"],
                 ["Analytics", "Bank", "Health", "Logistics", "Media", "Robotics", "Software", "Systems",
                  "Foods", "Energy", "Insurance", "Legal", "Design", "Retail", "Bio"],
                 ["", " Inc", " GmbH", " Ltd", " Group", " Labs"])
UNIVERSITY_PLACES = ["Avalon", "Brookfield", "Cresthaven", "Dunmore", "Eastwick", "Fairhaven", "Glenwood",
                     "Highmoor", "Ivybridge", "Kingsreach", "Lakeside", "Millbrook", "Northgate", "Oakridge"]


def company_name(index: int) -> str:
    """A unique fictional company name for each index."""
    adjectives, nouns, suffixes = COMPANY_WORDS
    a, rest = index % len(adjectives), index // len(adjectives)
    n, rest = rest % len(nouns), rest // len(nouns)
    s, rest = rest % len(suffixes), rest // len(suffixes)
    return f"{adjectives[a]} {nouns[n]}{suffixes[s]}" + (f" {rest + 1}" if rest else "")


def slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


class _Builder:
    """Collects honest accounts segment by segment, then draws what all accounts share."""

    def __init__(self, cfg: SimulationConfig, rng: np.random.Generator, plan: AddressPlan, egress: Egress,
                 bank: PromptBank):
        self.cfg, self.rng, self.plan, self.egress, self.bank = cfg, rng, plan, egress, bank
        self.parts: list[dict] = []
        self.linkage = Linkage()
        self.size = 0

    def add(self, **columns) -> np.ndarray:
        """Register a segment's columns; returns the population positions of its accounts."""
        n = len(columns["profile"])
        self.parts.append(columns)
        positions = np.arange(self.size, self.size + n)
        self.size += n
        return positions

    def created(self, n: int) -> np.ndarray:
        """Signup times: mostly long-standing accounts, some signing up during the window."""
        rng, start = self.rng, self.cfg.start_epoch
        age = rng.exponential(ACCOUNT_AGE_DAYS, n)
        age = np.where(age > MAX_AGE_DAYS, rng.random(n) * MAX_AGE_DAYS, age) * 86_400  # no pile-up at the cap
        inside = rng.random(n) < NEW_SIGNUP_SHARE
        return np.where(inside, start + rng.random(n) * (self.cfg.end_epoch - start - 86_400),
                        start - age).astype(np.int64)


def build_population(cfg: SimulationConfig, rng: np.random.Generator, plan: AddressPlan, egress: Egress,
                     bank: PromptBank, count: int, residential_networks: list[np.ndarray]) -> tuple[Accounts, Linkage]:
    """``count`` honest accounts with their identifiers, egress pools and relations."""
    b = _Builder(cfg, rng, plan, egress, bank)
    n_service = max(SERVICE_MIN, round(count * SERVICE_SHARE))
    n_employees = round(count * EMPLOYEE_SHARE)
    n_students = round(count * STUDENT_SHARE)
    n_households = count - n_service - n_employees - n_students
    keys = _Keys(rng)
    _companies(b, keys, n_employees)
    _students(b, keys, n_students)
    _households(b, keys, n_households)
    _services(b, keys, n_service)
    return _finish(b, keys, residential_networks)


class _Keys:
    """Random identifier keys (card, device, phone) per account, shared within flagged groups."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.card, self.device, self.phone = [], [], []
        self.billing_owner: list[np.ndarray] = []  # position whose email is the billing email; -1 = own
        self.billing_mailbox: list[pa.Array] = []  # explicit shared billing mailbox (null = none)

    def add(self, n: int, members: np.ndarray, shared: dict[str, np.ndarray], first: np.ndarray,
            offset: int, mailbox: pa.Array | None = None) -> None:
        """Fresh keys for ``n`` accounts; groups flagged in ``shared[kind]`` reuse their first member's key."""
        fresh = {kind: self.rng.integers(1, 2**63, n, dtype=np.uint64) for kind in ("card", "device", "phone")}
        for kind, flags in shared.items():
            share = flags[members]
            fresh[kind] = np.where(share, fresh[kind][first[members]], fresh[kind])
        self.card.append(fresh["card"])
        self.device.append(fresh["device"])
        self.phone.append(fresh["phone"])
        payer = shared.get("card", np.zeros(len(first), bool))[members]
        self.billing_owner.append(np.where(payer, offset + first[members], -1))
        self.billing_mailbox.append(mailbox if mailbox is not None else pa.nulls(n, pa.string()))


def _companies(b: _Builder, keys: _Keys, total: int) -> None:
    rng, cfg = b.rng, b.cfg
    low, high, alpha = COMPANY_SIZE
    anchor = min(high, max(low, round(total * ANCHOR_COMPANY_SHARE)))
    sizes = np.concatenate([[anchor], truncated_pareto(rng, low, high, alpha, total // low + 2).astype(np.int64)])
    sizes = fill_groups(sizes, total) if total > 0 else np.zeros(0, np.int64)
    companies = len(sizes)
    members = groups_of(sizes)
    first = first_of_group(sizes)
    names = [company_name(int(i)) for i in rng.permutation(max(companies * 2, 1))[:companies]]
    corporate_card = rng.random(companies) < CORPORATE_CARD_SHARE
    pools = np.array([b.egress.add(b.plan.corporate_block(
        name, int(size), ASN_COMPANY + k if size >= OWN_ASN_EMPLOYEES else None))
        for k, (name, size) in enumerate(zip(names, sizes))], dtype=np.int32)
    country, tz = acc.draw_countries(rng, companies)
    onboarding = b.created(companies)
    burst = rng.random(total) < ONBOARDING_BURST_SHARE
    created = np.where(burst, onboarding[members] + rng.random(total) * 2 * 86_400, b.created(total))
    created = np.minimum(created, cfg.end_epoch - 86_400).astype(np.int64)
    domains = [slug(n) + ".example" for n in names]
    domain = pick(domains, members)
    mailbox = pa.array(np.where(corporate_card[members], concat("billing@", domain).to_numpy(zero_copy_only=False),
                                None), pa.string())
    plan_code = np.where(corporate_card[members], np.where(rng.random(total) < 0.7, 3, 4),
                         rng.choice([1, 2], total))
    offset = b.size
    positions = b.add(created_at=created, domain=domain, org=pick(names, members), country=country[members],
                      tz=tz[members], plan=plan_code, profile=np.full(total, acc.WORK),
                      segment=np.full(total, 2), group=concat("company-", _numbered(members, 5)),
                      pool_primary=pools[members], mobile_users=0.3)
    keys.add(total, members, {"card": corporate_card}, first, offset, mailbox)
    # Admins invite colleagues: the first employee of a company invites 60 % of the others.
    invited = (positions != positions[first[members]]) & (rng.random(total) < 0.6)
    b.linkage.relate("invited", positions[first[members]][invited], positions[invited], created[invited])


def _students(b: _Builder, keys: _Keys, total: int) -> None:
    rng = b.rng
    universities = max(2, min(120, total // STUDENTS_PER_UNIVERSITY))
    names = [f"University of {UNIVERSITY_PLACES[i % len(UNIVERSITY_PLACES)]}"
             + (f" {i // len(UNIVERSITY_PLACES) + 1}" if i >= len(UNIVERSITY_PLACES) else "")
             for i in range(universities)]
    pools = np.array([b.egress.add(b.plan.university_block(name, i)) for i, name in enumerate(names)], np.int32)
    low, high = STUDENT_GROUP
    sizes = fill_groups(rng.integers(low, high + 1, total // low + 2), total) if total else np.zeros(0, np.int64)
    members = groups_of(sizes)
    first = first_of_group(sizes)
    # Zipf-like enrolment: a few big universities hold most students.
    weights = 1 / np.arange(1, universities + 1)
    university = rng.choice(universities, len(sizes), p=weights / weights.sum())[members]
    shared = {kind: rng.random(len(sizes)) < share for kind, share in STUDENT_SHARING.items()}
    domain = pick([f"student.{slug(n)}.example" for n in names], university)
    org = pa.array(np.where(rng.random(total) < 0.3, pick(names, university).to_numpy(zero_copy_only=False), None),
                   pa.string())
    country, tz = acc.draw_countries(rng, universities)
    offset = b.size
    positions = b.add(created_at=b.created(total), domain=domain, org=org, country=country[university],
                      tz=tz[university], plan=rng.choice([0, 1], total, p=[0.6, 0.4]),
                      profile=np.full(total, acc.STUDENT), segment=np.full(total, 3),
                      group=concat(concat("university-", _numbered(university, 3)), ":group-", _numbered(members, 6)),
                      pool_primary=pools[university], mobile_users=0.7)
    keys.add(total, members, shared, first, offset)
    paid = shared["card"][members] & (positions != positions[first[members]])
    b.linkage.relate("invited", positions[first[members]][paid], positions[paid],
                     b.parts[-1]["created_at"][paid])


def _households(b: _Builder, keys: _Keys, total: int) -> None:
    rng = b.rng
    sizes = fill_groups(rng.choice(np.arange(1, 7), total + 1, p=HOUSEHOLD_SIZE_P), total)
    members = groups_of(sizes)
    first = first_of_group(sizes)
    multi = sizes > 1
    shared = {kind: multi & (rng.random(len(sizes)) < share) for kind, share in HOUSEHOLD_SHARING.items()}
    pools = b.egress.add_many(b.plan.home_addresses(len(sizes)), np.ones(len(sizes), np.int64))
    country, tz = acc.draw_countries(rng, len(sizes))
    domain = pick(CONSUMER_DOMAINS, rng.choice(len(CONSUMER_DOMAINS), total, p=CONSUMER_DOMAIN_P))
    created = b.created(total)
    family = np.zeros(len(sizes), bool)
    if b.cfg.archetypes:
        # Robustness worlds: half the households of 4-6 are families that share one card and one device and
        # joined one after another over months, each referred by the previous: a ring's honest twin.
        family = (sizes >= 4) & (rng.random(len(sizes)) < FAMILY_SHARE)
        for kind in ("card", "device"):
            shared[kind] = shared[kind] | family
        gaps = rng.uniform(*FAMILY_JOIN_GAP_DAYS, total) * 86_400
        order = np.arange(total) - first[members]  # member number within the household
        joined = created[first[members]] + np.cumsum(gaps)
        joined -= joined[first[members]]  # the first member joins when the household does
        joined += created[first[members]]
        created = np.where(family[members] & (order > 0),
                           np.minimum(joined, b.cfg.end_epoch - 86_400), created).astype(np.int64)
    offset = b.size
    positions = b.add(created_at=created, domain=domain, org=pa.nulls(total, pa.string()),
                      country=country[members], tz=tz[members],
                      plan=rng.choice([0, 1, 2, 5], total, p=[0.5, 0.3, 0.1, 0.1]),
                      profile=np.full(total, acc.PERSONAL), segment=np.where(multi[members], 1, 0),
                      group=pa.array(np.where(multi[members], concat("household-", _numbered(members, 7))
                                              .to_numpy(zero_copy_only=False), None), pa.string()),
                      pool_primary=pools[members], mobile_users=MOBILE_USERS, carrier_group=members)
    keys.add(total, members, shared, first, offset)
    referred = multi[members] & (positions != positions[first[members]]) & (rng.random(total) < 0.3)
    referred &= ~family[members]
    b.linkage.relate("referred", positions[first[members]][referred], positions[referred], created[referred])
    if family.any():
        chain = family[members] & (positions != positions[first[members]])
        b.linkage.relate("referred", positions[chain] - 1, positions[chain], created[chain])


def _services(b: _Builder, keys: _Keys, total: int) -> None:
    rng, cfg = b.rng, b.cfg
    sizes = fill_groups(np.minimum(rng.geometric(0.35, total + 1), 12), total)
    members = groups_of(sizes)
    first = first_of_group(sizes)
    orgs = len(sizes)
    names = [company_name(100_000 + int(i)) for i in rng.permutation(orgs * 2)[:orgs]]
    provider = rng.integers(len(CLOUDS), size=orgs)
    pools = np.array([b.egress.add(b.plan.cloud_block(int(p), int(rng.integers(2, 9)))) for p in provider], np.int32)
    agent = rng.random(orgs) < 0.4
    country, tz = acc.draw_countries(rng, orgs)
    created = b.created(total)
    days_active = (cfg.end_epoch - np.maximum(created, cfg.start_epoch)) / 86_400
    daily = rng.lognormal(np.log(SERVICE_DAILY_MEDIAN), SERVICE_DAILY_SIGMA, total)
    offset = b.size
    b.add(created_at=created, domain=pick([slug(n) + ".example" for n in names], members),
          org=pick(names, members), country=country[members], tz=tz[members],
          plan=rng.choice([4, 5], total, p=[0.4, 0.6]), profile=np.full(total, acc.SERVICE),
          segment=np.full(total, 4), group=concat("service-org-", _numbered(members, 5)),
          pool_primary=pools[members], mobile_users=0.0,
          persona=np.where(agent[members], b.bank.service_persona["agent"], b.bank.service_persona["ci"]),
          n_ordinary=np.floor(daily * days_active).astype(np.int64),
          adopt_delay_days=np.where(rng.random(total) < PINNED_SERVICE, np.inf, rng.exponential(2.0, total)))
    keys.add(total, members, {"card": np.ones(orgs, bool)}, first, offset)


def _finish(b: _Builder, keys: _Keys, residential_networks: list[np.ndarray]) -> tuple[Accounts, Linkage]:
    """Draw what every honest account has (activity, mobile/VPN use, identifiers) and emit links."""
    rng, cfg, n = b.rng, b.cfg, b.size
    col = {name: [p[name] for p in b.parts] for name in ("created_at", "country", "tz", "plan", "profile", "segment")}
    created = np.concatenate(col["created_at"]).astype(np.int64)
    profile = np.concatenate(col["profile"]).astype(np.int8)
    active_from = np.maximum(created, cfg.start_epoch)
    active_share = (cfg.end_epoch - active_from) / (cfg.end_epoch - cfg.start_epoch)
    activity = np.array([SEGMENT_ACTIVITY.get(int(p), 1.0) for p in range(4)])[profile]
    n_ordinary = np.floor(lognormal_with_mean(rng, cfg.benign_mean_requests * activity * active_share + 1e-9,
                                              REQUESTS_SIGMA, n)).astype(np.int64)
    persona = rng.integers(PERSONAS, size=n)
    adopt = np.where(rng.random(n) < ADOPTERS, rng.exponential(ADOPTION_DAYS, n), np.inf)
    for position, part in zip(np.cumsum([0] + [len(p["profile"]) for p in b.parts]), b.parts):
        span = slice(position, position + len(part["profile"]))
        for name, target in (("n_ordinary", n_ordinary), ("persona", persona), ("adopt_delay_days", adopt)):
            if name in part:
                target[span] = part[name]

    # Mobile: carrier per account (per household when given), CGNAT pools sized by subscribers.
    mobile_share = np.concatenate([np.full(len(p["profile"]), p["mobile_users"]) for p in b.parts])
    uses_mobile = rng.random(n) < mobile_share
    carrier_group = np.concatenate([p.get("carrier_group", np.arange(len(p["profile"])) + 10**9 * i)
                                    for i, p in enumerate(b.parts)])
    carrier_groups, carrier_of = np.unique(carrier_group, return_inverse=True)
    carrier = rng.integers(len(CARRIERS), size=len(carrier_groups))[carrier_of]
    subscribers = np.bincount(carrier[uses_mobile], minlength=len(CARRIERS))
    carrier_pool = np.array([b.egress.add(b.plan.cgnat_pool(c, max(2, int(s) // CGNAT_SUBSCRIBERS_PER_ADDRESS)))
                             for c, s in enumerate(subscribers)], dtype=np.int32)
    mobile_only = uses_mobile & (rng.random(n) < MOBILE_ONLY) & (profile != acc.WORK)
    p_mobile = np.where(uses_mobile, np.where(mobile_only, 1.0, rng.beta(2, 3, n)), 0.0).astype(np.float32)
    pool_primary = np.concatenate([p["pool_primary"] for p in b.parts]).astype(np.int32)
    pool_mobile = np.where(uses_mobile, carrier_pool[carrier], -1).astype(np.int32)

    # Anonymisers: consumer VPN brands, residential proxy networks, Tor.
    vpn_pools = [b.egress.add(p) for p in b.plan.vpn_pools()]
    proxy_pools = [b.egress.add(p) for p in residential_networks]
    tor_pool = b.egress.add(b.plan.tor_exits())
    u = rng.random(n)
    pool_anon = np.full(n, -1, np.int32)
    p_anon = np.zeros(n, np.float32)
    vpn = u < VPN_USERS
    proxy = (u >= VPN_USERS) & (u < VPN_USERS + RESIDENTIAL_PROXY_USERS)
    tor = (u >= VPN_USERS + RESIDENTIAL_PROXY_USERS) & (u < VPN_USERS + RESIDENTIAL_PROXY_USERS + TOR_USERS)
    pool_anon[vpn] = np.array(vpn_pools)[rng.integers(len(vpn_pools), size=int(vpn.sum()))]
    pool_anon[proxy] = np.array(proxy_pools)[rng.integers(len(proxy_pools), size=int(proxy.sum()))]
    pool_anon[tor] = tor_pool
    p_anon[vpn | proxy | tor] = rng.uniform(0.3, 1.0, int((vpn | proxy | tor).sum()))

    # E-mail: first.last + a unique number at the segment's domain.
    domain = pa.concat_arrays([p["domain"] for p in b.parts])
    unique = pa.array(rng.permutation(n) + 1).cast(pa.string())
    email = concat(pick(FIRST, rng.integers(len(FIRST), size=n)), ".", pick(LAST, rng.integers(len(LAST), size=n)),
                   unique, "@", domain)
    country = np.concatenate(col["country"])
    plan_code = np.concatenate(col["plan"]).astype(np.int8)
    accounts = Accounts(
        created_at=created, email=email, org=pa.concat_arrays([p["org"] for p in b.parts]), country=country,
        tz=np.concatenate(col["tz"]).astype(np.float32), plan=plan_code, profile=profile, persona=persona,
        n_ordinary=n_ordinary, n_extract=np.zeros(n, np.int64), campaign=np.full(n, -1, np.int16),
        role=np.zeros(n, np.int8), segment=np.concatenate(col["segment"]).astype(np.int8),
        group=pa.concat_arrays([p["group"] for p in b.parts]), pool_primary=pool_primary, pool_mobile=pool_mobile,
        pool_anon=pool_anon, p_mobile=p_mobile, p_anon=p_anon, adopt_delay_days=adopt.astype(np.float32),
        active_from=active_from,
    )
    _identifier_links(b, keys, accounts)
    # Friends refer friends: 3 % of accounts were referred by a random earlier account.
    referred = np.flatnonzero(rng.random(n) < FRIEND_REFERRALS)
    referrer = rng.integers(n, size=len(referred))
    keep = referrer != referred
    b.linkage.relate("referred", referrer[keep], referred[keep],
                     np.maximum(created[referrer[keep]], created[referred[keep]]))
    return accounts, b.linkage


def _identifier_links(b: _Builder, keys: _Keys, accounts: Accounts) -> None:
    """payment, device, phone and billing-email links of honest accounts."""
    rng, cfg, n = b.rng, b.cfg, len(accounts)
    card = np.concatenate(keys.card)
    has_card = (accounts.plan != 0) | (rng.random(n) < FREE_WITH_CARD)
    emit_identifier_links(b.linkage, rng, cfg, accounts, np.arange(n), card, has_card,
                          np.concatenate(keys.device), np.concatenate(keys.phone), rng.random(n) < PHONE_USERS,
                          np.concatenate(keys.billing_owner), pa.concat_arrays(keys.billing_mailbox))


def emit_identifier_links(linkage: Linkage, rng: np.random.Generator, cfg: SimulationConfig, accounts: Accounts,
                          positions: np.ndarray, card: np.ndarray, has_card: np.ndarray, device: np.ndarray,
                          phone: np.ndarray, has_phone: np.ndarray, billing_owner: np.ndarray,
                          mailbox: pa.Array) -> None:
    """Links for payment cards, devices, phones and billing e-mail (shared by honest and campaign code).

    Values are opaque: ``pm_`` + 12 hex digits, ``dev_`` + 12 hex, e-mail as text; phones are
    written as ``ph_`` keys here and turned into distinct numbers once for the whole world
    (world.phone_numbers). Shared keys give identical values.
    """
    n = len(positions)
    created = accounts.created_at[positions]
    last = np.maximum(created, cfg.end_epoch - (rng.random(n) * 5 * 86_400).astype(np.int64))
    months = np.maximum(1, (last - created) // (30 * 86_400))
    logins = 1 + (accounts.n_ordinary[positions] + accounts.n_extract[positions]) // 20
    linkage.link("payment", positions[has_card], hex_ids("pm_", card[has_card]), created[has_card],
                 last[has_card], months[has_card])
    linkage.link("device", positions, hex_ids("dev_", device), created, last, logins)
    linkage.link("phone", positions[has_phone], hex_ids("ph_", phone[has_phone], 16),
                 created[has_phone], last[has_phone], np.ones(int(has_phone.sum()), np.int64))
    email = accounts.email.take(pa.array(positions))
    owner_email = accounts.email.take(pa.array(np.where(billing_owner >= 0, billing_owner, positions)))
    billing = pc.coalesce(mailbox, owner_email)
    linkage.link("email", positions, pc.if_else(pc.is_null(billing), email, billing),
                 created, last, months)


def _numbered(index: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pa.array(np.asarray(index, dtype=np.int64)).cast(pa.string()), width=width,
                                padding="0")
