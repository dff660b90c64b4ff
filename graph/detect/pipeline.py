"""One detection run: linkage → communities → scoring → lineage → persisted run → (optional) export."""
from __future__ import annotations

import csv
import json
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from graph import db
from graph.act import indicators, related
from graph.config import setting
from graph.detect import communities, learned, linkage, pivots, risk, scoring, seeded
from graph.detect.clock import Clock
from graph.detect.lineage import Lineage, trace
from graph.detect.params import CommunityParams, LineageParams, LinkageParams, ScoringParams
from graph.errors import LinkwatchError

MEMBERSHIP_BATCH = 10_000


@dataclass(frozen=True)
class Settings:
    linkage: LinkageParams = LinkageParams()
    community: CommunityParams = CommunityParams()
    scoring: ScoringParams = ScoringParams()
    lineage: LineageParams = LineageParams()

    @classmethod
    def from_environment(cls, window_days: float | None = None) -> "Settings":
        """Defaults plus the configured evidence window (``window_days`` overrides LINKWATCH_DETECT_WINDOW_DAYS)."""
        if window_days is None:
            raw = setting("LINKWATCH_DETECT_WINDOW_DAYS")
            try:
                window_days = float(raw)
            except ValueError:
                raise LinkwatchError(f"LINKWATCH_DETECT_WINDOW_DAYS must be a number of days, got {raw!r}") from None
        if window_days < 0:
            raise LinkwatchError(f"the detection window must be 0 (all history) or more days, got {window_days:g}")
        return cls(linkage=replace(LinkageParams(), window_days=window_days))


@dataclass
class RunResult:
    run_id: str
    engine: str
    partition: communities.Partition
    clusters: list[scoring.ClusterScore]  # every scored cluster, highest score first
    campaigns: list[tuple[str, scoring.ClusterScore]]  # the tracked ones: (campaign id, score)
    lineage: Lineage
    account_scores: dict[str, tuple[str, float]]  # account id -> (campaign id, account score)
    flagged_accounts: set[str]  # members of flagged campaigns whose own match with the campaign is enough
    linkage_edges: int
    seconds: dict[str, float]
    flag_threshold: float
    risk: risk.AccountRisk | None = None  # every account's risk (and seeded risk with seeds)
    seed_scores: dict[str, float] | None = None  # personalised PageRank from the seeds (with seeds)
    related: list[dict] = field(default_factory=list)  # "possibly one operator" ties (graph/act/related.py)
    operator_groups: dict[str, str] = field(default_factory=dict)  # flagged campaign id -> its group's id
    learned: learned.LearnedModel | None = None  # the model fitted on the graph's labels (None: no labels)


def run(engine: str = "gds", settings: Settings | None = None, seeds: list[str] | None = None) -> RunResult:
    """Detect, score and persist campaigns and every account's risk on the current graph; returns what was found.

    ``seeds``: known-bad account ids; their personalised PageRank adds a seeded risk (``risk.compute``).
    """
    settings = settings or Settings.from_environment()
    if engine not in communities.ENGINES:
        raise LinkwatchError(f"unknown detection engine {engine!r}; choose one of {', '.join(communities.ENGINES)}")
    started = datetime.now(timezone.utc)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    summary = linkage.build(settings.linkage)
    seconds["linkage"], clock = time.perf_counter() - clock, time.perf_counter()
    seconds.update({f"linkage.{step}": s for step, s in summary.seconds.items()})
    partition = communities.detect(engine, settings.community, summary.weak)
    seconds["communities"], clock = time.perf_counter() - clock, time.perf_counter()
    seconds.update({f"communities.{step}": s for step, s in partition.seconds.items()})
    # before anything is persisted, so an unknown seed stops the run cleanly; the leads `detect` lists with
    # their evidence paths come from this walk over the whole linkage (the seeded risk walks shared hard
    # identifiers only, risk.walk_from_seeds)
    seed_scores = seeded.proximity(seeds, engine, links=summary.weak) if seeds else None
    if seeds:
        seconds["seeds"], clock = time.perf_counter() - clock, time.perf_counter()

    groups = [g for g in partition.groups() if len(g) >= settings.community.min_cluster_size]
    clusters = {f"k{i}": sorted(g) for i, g in enumerate(groups)}
    steps = Clock("scoring.")
    # model-release pivots are measured from USED_MODEL and calibrated with the other measurements
    extra = {key: {"model_pivot": scoring.Feature("model_pivot", p.value, p.sentence or "no pivot to a new model")}
             for key, p in pivots.cluster_pivots(clusters).items()}
    steps.lap("pivots")
    scores = scoring.score_clusters(clusters, settings.scoring, extra)
    steps.lap("facts")
    # labels, when the graph has them, train a model shown beside the score; the flag rule stays the score's
    model = learned.fit(scores, learned.read_labels())
    learned.annotate(scores, model, settings.scoring)
    steps.lap("learned")
    seconds.update(steps.seconds)
    seconds["scoring"], clock = time.perf_counter() - clock, time.perf_counter()

    tracked = [s for s in scores if s.score >= settings.scoring.track_threshold]
    previous = {r["campaign_id"]: set(r["members"]) for r in db.run("detect/previous_campaigns")}
    lineage = trace({s.cluster: set(s.members) for s in tracked}, previous, settings.lineage)
    run_id = f"run-{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    campaigns = [(lineage.clusters[s.cluster].campaign_id, s) for s in tracked]
    # partner corroboration becomes part of the stored evidence (graph.act never imports graph.detect)
    corroborated = {cid: [c["sentence"] for c in found] for cid, found in
                    indicators.corroborate_members({cid: s.members for cid, s in campaigns}).items()}
    _persist(run_id, started, engine, partition, campaigns, lineage, summary, settings, corroborated)
    db.run("detect/set_learned", run_id=run_id, model=json.dumps(model.summary()) if model else None,
           campaigns=[{"campaign_id": cid, "probability": s.learned_probability} for cid, s in campaigns])
    template_shares = {cid: next(f.value for f in s.features if f.name == "shared_templates") for cid, s in campaigns}
    members = {a for _, s in campaigns for a in s.members}
    member_rows = db.run("detect/account_scores", run_id=run_id, template_share_by_campaign=template_shares,
                         cohesion={a: c for a, c in partition.cohesion.items() if a in members},
                         template_quorum=scoring.TEMPLATE_QUORUM,
                         signature_min_share=settings.scoring.signature_min_share,
                         member_min_match=settings.scoring.member_min_match)
    account_scores = {r["account_id"]: (r["campaign_id"], r["score"]) for r in member_rows}
    flagged_accounts = {r["account_id"] for r in member_rows if r["flagged"]}
    ties, operator_groups = related.link(run_id, scores, campaigns, previous, settings.scoring.flag_threshold)
    seconds["persist"], clock = time.perf_counter() - clock, time.perf_counter()
    account_risk = risk.compute(sorted(partition.communities), partition.communities,
                                risk.cluster_scores(scores, account_scores), settings.linkage, summary.since,
                                seeds)
    risk.store(account_risk, run_id)
    db.run("detect/complete_run", run_id=run_id)
    seconds["risk"] = time.perf_counter() - clock
    return RunResult(run_id, engine, partition, scores, campaigns, lineage, account_scores, flagged_accounts,
                     summary.edges,
                     {k: round(v, 2) for k, v in seconds.items()}, settings.scoring.flag_threshold,
                     account_risk, seed_scores, ties, operator_groups, model)


def _persist(run_id, started, engine, partition, campaigns, lineage: Lineage, summary: linkage.LinkageSummary,
             settings: Settings, corroborated: dict[str, list[str]] | None = None) -> None:
    threshold = settings.scoring.flag_threshold
    rows = [{
        "campaign_id": cid, "score": s.score, "flagged": s.score >= threshold, "size": len(s.members),
        "evidence": s.evidence + (corroborated or {}).get(cid, []), "contributions": json.dumps(s.contributions()),
        "accounting": json.dumps({k: v for k, v in s.accounting.items() if k != "summary"}),
        "requests": s.accounting["requests"], "first_activity": s.accounting["first_activity"],
        "last_activity": s.accounting["last_activity"],
        "event": lineage.clusters[s.cluster].event, "related": lineage.clusters[s.cluster].related,
    } for cid, s in campaigns]
    db.run("detect/save_run", run_id=run_id, started_at=started.isoformat(), engine=engine,
           accounts=len(partition.communities), linkage_edges=summary.edges, evidence_since=summary.since,
           campaigns=rows,
           flagged_campaigns=sum(r["flagged"] for r in rows),
           parameters=json.dumps(asdict(settings)))
    db.run("detect/end_campaigns", run_id=run_id,
           ended=[{"campaign_id": e.campaign_id, "related": e.related} for e in lineage.ended.values()])
    db.run("detect/clear_members", campaign_ids=[cid for cid, _ in campaigns])
    memberships = [{"campaign_id": cid, "account_id": a} for cid, s in campaigns for a in s.members]
    for start in range(0, len(memberships), MEMBERSHIP_BATCH):
        db.run("detect/add_members", rows=memberships[start:start + MEMBERSHIP_BATCH])


def export(result: RunResult, directory: Path) -> tuple[Path, Path]:
    """Write ``accounts.csv`` (every account) and ``campaigns.json`` (every tracked campaign) into ``directory``."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LinkwatchError(f"{directory}: cannot create the export folder ({exc.strerror})") from exc
    accounts_path, campaigns_path = directory / "accounts.csv", directory / "campaigns.json"
    with accounts_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["account_id", "campaign_id", "score", "flagged", "risk", "risk_rank", "seeded_risk"])
        risks = result.risk.as_dict() if result.risk else {}
        for account in sorted(result.partition.communities):
            campaign_id, score = result.account_scores.get(account, ("", 0.0))
            account_risk, rank, seeded_risk = risks.get(account, ("", "", None))
            writer.writerow([account, campaign_id, score, str(account in result.flagged_accounts).lower(),
                             account_risk, rank, "" if seeded_risk is None else seeded_risk])
    campaigns = [{
        "id": cid, "score": s.score, "flagged": s.score >= result.flag_threshold, "size": len(s.members),
        "event": result.lineage.clusters[s.cluster].event, "related": result.lineage.clusters[s.cluster].related,
        "accounting": s.accounting, "contributions": s.contributions(), "evidence": s.evidence,
        "members": s.members, "operator_group": result.operator_groups.get(cid),
        # only when a model was fitted on labels (docs/detection.md, "Learned from labels")
        **({"learned_probability": s.learned_probability} if s.learned_probability is not None else {}),
    } for cid, s in result.campaigns]
    learned_model = {"learned_model": result.learned.summary()} if result.learned else {}
    campaigns_path.write_text(json.dumps({"run_id": result.run_id, "engine": result.engine,
                                          "campaigns": campaigns, "related_campaigns": result.related,
                                          **learned_model,
                                          "ended": [asdict(e) for e in result.lineage.ended.values()]},
                                         indent=2) + "\n", encoding="utf-8")
    return accounts_path, campaigns_path
