"""``linkwatch simulate``: write a synthetic world as an input bundle."""
from __future__ import annotations

import argparse
import sys
import time

from graph.errors import LinkwatchError

from .config import EVASION, SCALES, config_for, with_format
from .evolution import DEFAULT_ADVANCE_DAYS, WINDOW_DAYS

# A peer-to-peer payment-platform export (users, cards, devices, transfers, referrals, held-aside chargeback
# labels) for per-account risk ranking: loaders/synthetic/p2p.py.
P2P_SCALE = "p2p"


def _simulate(args: argparse.Namespace) -> int:
    if args.scale == P2P_SCALE:
        return _simulate_p2p(args)
    if args.distinct_transfers:
        raise LinkwatchError("--distinct-transfers applies to --scale p2p only")
    from .world import generate

    cfg = config_for(args.scale, seed=args.seed, evasion=args.evasion, campaigns=args.campaigns,
                     accounts=args.accounts, archetypes=args.archetypes)
    if args.format:
        cfg = with_format(cfg, args.format)
    began = time.monotonic()
    summary = generate(cfg, args.out, force=args.force,
                       progress=None if args.quiet else (lambda message: print(message, file=sys.stderr)),
                       periods=args.periods, advance_days=args.advance_days)
    counts = ", ".join(f"{name} {value:,}" for name, value in summary.counts.items())
    print(f"wrote {summary.out_dir} in {time.monotonic() - began:.1f} s: {counts}")
    return 0


def _simulate_p2p(args: argparse.Namespace) -> int:
    from .p2p import P2PConfig, generate

    if (args.periods != 1 or args.campaigns is not None or args.evasion != "low" or args.format not in (None, "csv")
            or args.archetypes != "classic"):
        raise LinkwatchError("--scale p2p takes only --seed, --out, --force, --quiet and --distinct-transfers "
                             "(plus --accounts): it has no campaigns, evasion levels or periods")
    cfg = P2PConfig(seed=args.seed, **({"users": args.accounts} if args.accounts else {}))
    began = time.monotonic()
    summary = generate(cfg, args.out, force=args.force, repeated=not args.distinct_transfers)
    counts = ", ".join(f"{name} {value:,}" for name, value in summary.counts.items())
    print(f"wrote {summary.out_dir} in {time.monotonic() - began:.1f} s: {counts}")
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    simulate = sub.add_parser(
        "simulate", help="write a synthetic world (honest population + distillation campaigns) as an input bundle",
        description="Generate a deterministic synthetic world: honest accounts with honest linkage (companies, "
                    "households, CGNAT, VPNs, 24/7 power users) and distillation campaigns, written as a canonical "
                    "input bundle plus truth.csv and scenario.json. See docs/simulator.md.")
    simulate.add_argument("--scale", choices=[*SCALES, P2P_SCALE], default="demo",
                          help="demo ~5k accounts (CSV with prompt text), medium ~100k, large ~1M, "
                               "seed ~1M with a 25k-account / 28.8M-request campaign; p2p: a 30k-user "
                               "peer-to-peer payment export with chargeback labels held aside (default: demo)")
    simulate.add_argument("--seed", type=_positive, default=1, help="random seed; same seed + arguments = same bytes")
    simulate.add_argument("--out", required=True, help="bundle folder to create")
    simulate.add_argument("--evasion", choices=list(EVASION), default="low",
                          help="how hard campaigns hide (default: low)")
    simulate.add_argument("--campaigns", type=_positive, default=None,
                          help="number of campaigns (default: per scale; classic archetypes only)")
    simulate.add_argument("--archetypes", default="classic", metavar="classic|all|LIST",
                          help="operators to plant: classic (the scale's hydra campaigns, default), all (hydra, "
                               "hosting, ring, reseller and slow operators, counts, sizes and knobs drawn from the "
                               "seed) or a comma list of those names; see docs/simulator.md")
    simulate.add_argument("--periods", type=int, choices=[1, 2], default=1,
                          help="2: an evolving world written as DIR/period-1 and DIR/period-2 (cumulative snapshots) "
                               "plus DIR/evolution.json: after period 1 one campaign grows, one splits, two merge "
                               "and a new one starts (default: 1, a single bundle)")
    simulate.add_argument("--advance-days", type=_positive, default=DEFAULT_ADVANCE_DAYS, metavar="D",
                          help=f"length of period 2 in days with --periods 2 (more than {WINDOW_DAYS}; "
                               f"default: {DEFAULT_ADVANCE_DAYS})")
    simulate.add_argument("--distinct-transfers", action="store_true",
                          help="p2p only: one relations row per (payer, payee) pair (first time, amounts summed) "
                               "instead of one row per transfer")
    simulate.add_argument("--force", action="store_true", help="replace an existing simulated bundle at --out")
    simulate.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    # Undocumented knobs for tests and experiments.
    simulate.add_argument("--accounts", type=_positive, default=None, help=argparse.SUPPRESS)
    simulate.add_argument("--format", choices=["csv", "parquet"], default=None, help=argparse.SUPPRESS)
    simulate.set_defaults(handler=_simulate)
