"""``linkwatch detect`` and ``linkwatch evaluate``."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from graph.detect.communities import ENGINES


def _groups(result) -> list[list[str]]:
    """Groups of more than one related flagged campaign (graph/act/related.py)."""
    members: dict[str, list[str]] = {}
    for cid, group in sorted(result.operator_groups.items()):
        members.setdefault(group, []).append(cid)
    return [ids for ids in members.values() if len(ids) > 1]


def _detect(args: argparse.Namespace) -> int:
    from graph.act import indicators
    from graph.detect import learned, pipeline, risk, seeded

    # The first run queries labels that do not exist yet (Campaign, INCLUDES): the server's warnings are noise.
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    seeds = seeded.read_seeds(args.seeds) if args.seeds else None
    settings = pipeline.Settings.from_environment(args.window_days)
    result = pipeline.run(args.engine, settings, seeds=seeds)
    flagged = [(cid, s) for cid, s in result.campaigns if s.score >= result.flag_threshold]
    print(f"run {result.run_id} ({result.engine}): {len(result.partition.communities):,} accounts, "
          f"{result.linkage_edges:,} linkage edges, {len(result.clusters):,} clusters scored, "
          f"{len(result.campaigns)} tracked, {len(flagged)} flagged as campaigns; seconds {result.seconds}")
    for cid, score in flagged:
        event = result.lineage.clusters[score.cluster]
        print(f"\n{cid}  score {score.score:.0f}  [{event.event}{' ' + ', '.join(event.related) if event.related else ''}]")
        for line in score.evidence:
            print(f"  - {line}")
        for partner in indicators.corroboration(cid):  # imported partner indicators (docs/acting.md)
            print(f"  - {partner['sentence']} (TLP:{partner['tlp'].upper()})")
    if result.learned is not None:  # the model fitted on labels (graph/detect/learned.py)
        print(f"\n{result.learned.paragraph()}")
        for cid, score in result.campaigns:
            if learned.suggests_review(score, settings.scoring):
                print(f"  labels suggest review: {cid}  score {score.score:.0f}, learned probability "
                      f"{score.learned_probability:.2f}")
    for group in _groups(result):
        print(f"\npossibly one operator: {', '.join(group)}")
    if result.risk is not None and result.risk.accounts:
        top = result.risk.rank.argsort()[:args.top_risk]
        print(f"\nhighest account risk (of {len(result.risk.accounts):,}; every account's is stored and exported):")
        for i in top:
            why = "; ".join(risk.reasons(result.risk, i)) or "nothing unusual"
            print(f"  {result.risk.rank[i]:>4}. {result.risk.accounts[i]}  {result.risk.risk[i]:.3f}  {why}")
    for ended in result.lineage.ended.values():
        print(f"\n{ended.campaign_id}  ended" + (f" (merged into {ended.related[0]})" if ended.related else ""))
    if seeds:
        leads = seeded.rank(seeds, engine=args.engine, top=args.top, scores=result.seed_scores)
        print(f"\naccounts most linked to {len(seeds)} seed account(s):")
        for lead in leads:
            hops = "; ".join(f"{h['from']} → {h['to']} ({', '.join(h['shared']) or 'linked'})" for h in lead.path)
            print(f"  {lead.account_id}  {lead.score:.3f}  {hops}")
    if args.export:
        accounts_path, campaigns_path = pipeline.export(result, args.export)
        print(f"\nwrote {accounts_path} and {campaigns_path}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from graph.detect import evaluate, seeded

    if args.labels:
        exclude = set(seeded.read_seeds(args.exclude_seeds)) if args.exclude_seeds else set()
        ranking = evaluate.evaluate_ranking(evaluate.read_labels(args.labels), args.detected, exclude)
    if args.truth:
        campaigns = args.campaigns or args.detected.with_name("campaigns.json")
        exported = args.campaigns is not None or campaigns.exists()
        groups = evaluate.read_operator_groups(campaigns) if exported else {}
        truth = evaluate.read_truth(args.truth)
        metrics = evaluate.evaluate(truth, evaluate.read_detected(args.detected), operator_groups=groups)
        if exported:  # the ranking of the exported (tracked) clusters, threshold-free
            metrics.update(evaluate.rank_clusters(truth, evaluate.read_clusters(campaigns)))
        planted = {account: bool(campaign) for account, campaign in truth.items()}
        metrics["account_auc_vs_truth"] = {k: v for k, v in evaluate.evaluate_ranking(planted, args.detected).items()
                                           if k.startswith("auc_")}
        if args.labels:
            metrics["labels"] = ranking
    else:
        metrics = ranking
    json.dump(metrics, sys.stdout, indent=2)
    print()
    return 0


def _evaluate_checked(args: argparse.Namespace) -> int:
    from graph.errors import LinkwatchError

    if not args.truth and not args.labels:
        raise LinkwatchError("evaluate needs --truth CSV, --labels CSV or both")
    return _evaluate(args)


def register(sub: argparse._SubParsersAction) -> None:
    detect = sub.add_parser("detect", help="find, score and explain coordinated account clusters")
    detect.add_argument("--engine", choices=ENGINES, default="gds",
                        help="gds: Neo4j Graph Data Science (default); local: in-process igraph")
    detect.add_argument("--window-days", type=float, metavar="DAYS", default=None,
                        help="count only evidence last seen within DAYS before the newest activity in the graph "
                             "(default: LINKWATCH_DETECT_WINDOW_DAYS, 0 = all history)")
    detect.add_argument("--seeds", type=Path, metavar="FILE",
                        help="known-bad accounts (one id per line, or a CSV with account_id[,label]): "
                             "rank the accounts most linked to them, with evidence paths")
    detect.add_argument("--top", type=int, default=25, help="how many seeded leads to list (default 25)")
    detect.add_argument("--top-risk", type=int, default=10, metavar="N",
                        help="how many of the riskiest accounts to list (default 10; all are stored and exported)")
    detect.add_argument("--export", type=Path, metavar="DIR", help="write DIR/accounts.csv and DIR/campaigns.json")
    detect.set_defaults(handler=_detect)

    evaluate = sub.add_parser("evaluate", help="compare detect --export output with a ground truth (JSON metrics)")
    evaluate.add_argument("--truth", type=Path, metavar="CSV",
                          help="account_id,campaign_id (empty campaign_id = benign), e.g. the simulator's truth.csv: "
                               "campaign, account and partition metrics, plus the ranking of the clusters in "
                               "campaigns.json (average precision, each campaign's best rank) and account-level AUC")
    evaluate.add_argument("--labels", type=Path, metavar="CSV",
                          help="account_id,label (fraud = positive), e.g. chargebacks: account-level AUC of the "
                               "risk, seeded_risk and score columns (alone, or under \"labels\" with --truth)")
    evaluate.add_argument("--exclude-seeds", type=Path, metavar="FILE",
                          help="with --labels: leave these accounts (the seeds of a seeded run) out")
    evaluate.add_argument("--detected", type=Path, required=True, metavar="CSV",
                          help="accounts.csv written by `linkwatch detect --export`")
    evaluate.add_argument("--campaigns", type=Path, metavar="JSON",
                          help="campaigns.json of the same export, for operator_recall (related campaigns as one; "
                               "default: campaigns.json beside --detected, when there is one)")
    evaluate.set_defaults(handler=_evaluate_checked)
