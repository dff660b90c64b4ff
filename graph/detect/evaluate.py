"""Detection quality against a ground truth: account-, campaign- and partition-level metrics.

``truth`` maps account id -> campaign id (None for benign accounts); ``detected`` maps account id ->
(cluster id or None, flagged). Partition metrics (ARI, NMI) compare labellings of the same accounts.
"""
from __future__ import annotations

import csv
import math
from collections import Counter
from pathlib import Path

from graph.errors import LinkwatchError


class EvaluationInputError(LinkwatchError):
    """A truth or detection file is missing, unreadable or lacks a required column."""


def _entropy(counts) -> float:
    total = sum(counts)
    return -sum(c / total * math.log(c / total) for c in counts if c)


def nmi(labels_a: list, labels_b: list) -> float:
    """Normalized mutual information (arithmetic normalisation, as scikit-learn's default)."""
    n = len(labels_a)
    if n == 0:
        return 1.0
    joint = Counter(zip(labels_a, labels_b))
    count_a, count_b = Counter(labels_a), Counter(labels_b)
    mutual = sum(c / n * math.log(c * n / (count_a[a] * count_b[b])) for (a, b), c in joint.items())
    h_a, h_b = _entropy(count_a.values()), _entropy(count_b.values())
    if h_a == 0 and h_b == 0:
        return 1.0
    return mutual / ((h_a + h_b) / 2) if h_a + h_b else 0.0


def ari(labels_a: list, labels_b: list) -> float:
    """Adjusted Rand index."""
    n = len(labels_a)
    pairs = lambda counts: sum(c * (c - 1) / 2 for c in counts)  # noqa: E731
    index = pairs(Counter(zip(labels_a, labels_b)).values())
    sum_a, sum_b = pairs(Counter(labels_a).values()), pairs(Counter(labels_b).values())
    total = n * (n - 1) / 2
    expected = sum_a * sum_b / total if total else 0.0
    maximum = (sum_a + sum_b) / 2
    return 1.0 if maximum == expected else (index - expected) / (maximum - expected)


def evaluate(truth: dict[str, str | None], detected: dict[str, tuple[str | None, bool]],
             campaign_coverage: float = 0.8, cluster_purity: float = 0.8,
             operator_groups: dict[str, str] | None = None) -> dict:
    """The metrics of ``linkwatch evaluate``.

    A campaign counts as found when at least ``campaign_coverage`` of its accounts sit in flagged clusters
    whose members are at least ``cluster_purity`` that campaign. ``operator_recall`` asks for one operator
    found as one: at least ``campaign_coverage`` of the campaign's accounts in a single flagged cluster, or a
    single group of related clusters (``operator_groups``: cluster id -> group id), that is at least
    ``cluster_purity`` that campaign. A campaign found as a front cluster and an operator cluster counts for
    ``campaign_recall``, and for ``operator_recall`` only when the two are tied.
    """
    accounts = sorted(truth)
    missing = [a for a in accounts if a not in detected]
    flagged = {a for a in accounts if detected.get(a, (None, False))[1]}
    fraud = {a for a in accounts if truth[a]}
    benign = set(accounts) - fraud
    true_pos = len(flagged & fraud)
    precision = true_pos / len(flagged) if flagged else 0.0
    recall = true_pos / len(fraud) if fraud else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    campaigns = Counter(truth[a] for a in fraud)
    found = _found(truth, detected, fraud, cluster_purity, campaign_coverage)
    grouped = {a: ((operator_groups or {}).get(cluster, cluster) if cluster else None, is_flagged)
               for a, (cluster, is_flagged) in detected.items()}
    operators_found = _found(truth, grouped, fraud, cluster_purity, campaign_coverage, as_one=True)

    # Partition agreement over campaigns: a benign account is its own "campaign", an unflagged account its own
    # cluster (a company found as a low-score cluster is a correct non-detection, not a partition error).
    truth_labels = [truth[a] or f"benign:{a}" for a in accounts]
    detected_labels = [(cluster if is_flagged and cluster else f"none:{a}")
                       for a in accounts for cluster, is_flagged in [detected.get(a, (None, False))]]
    return {
        "accounts": len(accounts),
        "fraud_accounts": len(fraud),
        "flagged_accounts": len(flagged),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "campaigns": len(campaigns),
        "campaigns_found": len(found),
        "campaign_recall": round(len(found) / len(campaigns), 4) if campaigns else 0.0,
        "operator_recall": round(len(operators_found) / len(campaigns), 4) if campaigns else 0.0,
        "benign_false_positive_rate": round(len(flagged & benign) / len(benign), 6) if benign else 0.0,
        "ari": round(ari(truth_labels, detected_labels), 4),
        "nmi": round(nmi(truth_labels, detected_labels), 4),
        "accounts_missing_from_detection": len(missing),
    }


def _found(truth, detected, fraud, cluster_purity: float, campaign_coverage: float, as_one: bool = False) -> list[str]:
    """The true campaigns found: enough of their accounts in flagged clusters that are ≥ purity that campaign
    (``as_one``: in a single such cluster)."""
    cluster_members: dict[str, list[str]] = {}
    for account in sorted(truth):
        cluster, is_flagged = detected.get(account, (None, False))
        if cluster and is_flagged:
            cluster_members.setdefault(cluster, []).append(account)
    pure_cluster_of: dict[str, str] = {}  # flagged cluster -> the campaign it is ≥ purity made of
    for cluster, members in cluster_members.items():
        campaign, count = Counter(truth[a] for a in members).most_common(1)[0]
        if campaign and count / len(members) >= cluster_purity:
            pure_cluster_of[cluster] = campaign
    campaigns = Counter(truth[a] for a in fraud)
    if as_one:
        held = Counter((truth[a], detected.get(a, (None,))[0]) for a in fraud
                       if pure_cluster_of.get(detected.get(a, (None,))[0]) == truth[a])
        return [c for c, size in campaigns.items()
                if max((n for (campaign, _), n in held.items() if campaign == c), default=0) >= campaign_coverage * size]
    return [c for c, size in campaigns.items()
            if sum(1 for a in fraud if truth[a] == c and pure_cluster_of.get(detected.get(a, (None,))[0]) == c)
            >= campaign_coverage * size]


def _exported_campaigns(path: Path) -> list:
    """The "campaigns" list of ``detect --export``'s campaigns.json, or a clear error."""
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise EvaluationInputError(f"{path}: no such file") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvaluationInputError(f"{path}: not a JSON file written by `linkwatch detect --export` ({exc})") from exc
    campaigns = data.get("campaigns") if isinstance(data, dict) else None
    if not isinstance(campaigns, list):
        raise EvaluationInputError(f"{path}: no \"campaigns\" list (not written by `linkwatch detect --export`)")
    return campaigns


def read_operator_groups(path: Path) -> dict[str, str]:
    """campaign id -> operator group id from ``detect --export``'s campaigns.json (empty when it has none)."""
    campaigns = _exported_campaigns(path)
    return {str(c["id"]): str(c["operator_group"]) for c in campaigns
            if isinstance(c, dict) and c.get("id") and c.get("operator_group")}


def _read_csv(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            absent = [c for c in required if c not in columns]
            if absent:
                raise EvaluationInputError(f"{path}: line 1: missing column(s) {', '.join(absent)}")
            return list(reader)
    except FileNotFoundError as exc:
        raise EvaluationInputError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise EvaluationInputError(f"{path}: not UTF-8 text ({exc.reason})") from exc


TRUTH_CAMPAIGN_COLUMNS = ("campaign_id", "campaign")


def read_truth(path: Path) -> dict[str, str | None]:
    """account_id -> campaign id (empty = benign) from the simulator's truth.csv."""
    rows = _read_csv(path, ("account_id",))
    column = next((c for c in TRUTH_CAMPAIGN_COLUMNS if rows and c in rows[0]), None)
    if rows and column is None:
        raise EvaluationInputError(f"{path}: line 1: missing column campaign_id")
    return {r["account_id"]: (r[column] or None) for r in rows}


def read_detected(path: Path) -> dict[str, tuple[str | None, bool]]:
    """account_id -> (campaign id or None, flagged) from ``detect --export``'s accounts.csv."""
    rows = _read_csv(path, ("account_id", "campaign_id", "flagged"))
    detected = {}
    for line, row in enumerate(rows, start=2):
        flag = row["flagged"].strip().lower()
        if flag not in ("true", "false", "1", "0"):
            raise EvaluationInputError(f"{path}: line {line}: column flagged must be true or false, not {flag!r}")
        detected[row["account_id"]] = (row["campaign_id"] or None, flag in ("true", "1"))
    return detected


def auc(scores, positives) -> float:
    """Area under the ROC curve of ``scores`` for the boolean ``positives`` (ties count half: Mann-Whitney U).

    0.5 = no better than chance; NaN when there are no positives or no negatives.
    """
    import numpy as np

    scores, positives = np.asarray(scores, dtype=float), np.asarray(positives, dtype=bool)
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ordered = scores[order]
    # average rank of each run of tied scores
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(ordered)]
    ranks = np.empty(len(ordered))
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def read_labels(path: Path) -> dict[str, bool]:
    """account_id -> fraud? from a label file (``account_id,label``; label ``fraud`` or anything else)."""
    rows = _read_csv(path, ("account_id", "label"))
    return {r["account_id"]: r["label"].strip().lower() == "fraud" for r in rows}


RANKING_COLUMNS = ("risk", "seeded_risk", "score")


def evaluate_ranking(labels: dict[str, bool], detected: Path, exclude: set[str] = frozenset()) -> dict:
    """Account-level AUC of each score column of ``detect --export``'s accounts.csv against fraud labels.

    Accounts missing from the labels count as not fraud; ``exclude`` (e.g. the seeds) leaves accounts out.
    """
    rows = _read_csv(detected, ("account_id",))
    rows = [r for r in rows if r["account_id"] not in exclude]
    positives = [labels.get(r["account_id"], False) for r in rows]
    result = {"accounts": len(rows), "fraud_accounts": sum(positives)}
    for column in RANKING_COLUMNS:
        if rows and column in rows[0] and any(r[column] for r in rows):
            values = []
            for line, r in enumerate(rows, start=2):
                try:
                    values.append(float(r[column] or 0.0))
                except ValueError:
                    raise EvaluationInputError(f"{detected}: line {line}: column {column} must be a number, "
                                               f"not {r[column]!r}") from None
            area = auc(values, positives)
            result[f"auc_{column}"] = None if math.isnan(area) else round(area, 4)  # JSON has no NaN
    return result


def found_campaigns(truth: dict[str, str | None], detected: dict[str, tuple[str | None, bool]],
                    campaign_coverage: float = 0.8, cluster_purity: float = 0.8) -> list[str]:
    """The planted campaigns ``evaluate`` counts as found (same rule as its ``campaign_recall``)."""
    fraud = {a for a in truth if truth[a]}
    return sorted(_found(truth, detected, fraud, cluster_purity, campaign_coverage))


HONEST_CLUSTER_MIN = 20  # honest clusters this large must rank below every planted campaign


def rank_clusters(truth: dict[str, str | None], clusters: list[tuple[str, float, list[str]]],
                  honest_min: int = HONEST_CLUSTER_MIN) -> dict:
    """Quality of the cluster *ranking*, independent of any flag threshold.

    ``clusters``: (cluster id, score, member account ids). A cluster is *positive* when more than half of its
    members are one planted campaign, *honest* when more than half are benign (accounts missing from ``truth``
    count as benign). Clusters are ordered by score, highest first; ties put honest and mixed clusters before
    positive ones (the pessimistic order), then cluster id.

    * ``average_precision``: mean over positives of the precision at each positive's rank, divided by the
      number of positive clusters plus the planted campaigns with no positive cluster at all (those are
      never retrieved and count as precision 0); None when nothing was planted.
    * ``campaign_best_rank``: campaign -> rank of its best positive cluster (None: no cluster is mostly it).
    * ``campaigns_above_honest``: every planted campaign has a positive cluster scoring strictly above every
      honest cluster of at least ``honest_min`` accounts; ``separation`` is the lowest campaign best score
      minus the highest such honest score (None when either side is empty).
    """
    campaigns = sorted({c for c in truth.values() if c})
    rows = []
    for cluster, score, members in clusters:
        counts = Counter(truth.get(a) for a in members)
        top, top_count = max(((c, n) for c, n in counts.items() if c), key=lambda x: (x[1], x[0]), default=(None, 0))
        positive = top if members and top_count * 2 > len(members) else None
        honest = bool(members) and counts.get(None, 0) * 2 > len(members)
        rows.append((-float(score), positive is not None, str(cluster), positive, honest, len(members), float(score)))
    rows.sort()
    best_rank: dict[str, int | None] = {c: None for c in campaigns}
    best_score: dict[str, float] = {}
    hits, precision_sum = 0, 0.0
    for position, (_, _, _, campaign, _, _, score) in enumerate(rows, start=1):
        if campaign is None:
            continue
        hits += 1
        precision_sum += hits / position
        if best_rank.get(campaign) is None:
            best_rank[campaign], best_score[campaign] = position, score
    missed = sum(1 for c in campaigns if best_rank[c] is None)
    relevant = hits + missed
    honest_scores = [score for *_, honest, size, score in rows if honest and size >= honest_min]
    top_honest = max(honest_scores, default=None)
    lowest_campaign = min(best_score.values()) if best_score and not missed else None
    return {
        "clusters_ranked": len(rows),
        "positive_clusters": hits,
        "average_precision": round(precision_sum / relevant, 4) if relevant else None,
        "campaign_best_rank": best_rank,
        f"honest_clusters_{honest_min}_plus": len(honest_scores),
        "campaigns_above_honest": bool(campaigns) and not missed and (top_honest is None or lowest_campaign > top_honest),
        "separation": (round(lowest_campaign - top_honest, 4)
                       if lowest_campaign is not None and top_honest is not None else None),
    }


def read_clusters(path: Path) -> list[tuple[str, float, list[str]]]:
    """(id, score, members) of every campaign in ``detect --export``'s campaigns.json (the tracked clusters)."""
    campaigns = _exported_campaigns(path)
    clusters = []
    for number, c in enumerate(campaigns, start=1):
        ok = (isinstance(c, dict) and isinstance(c.get("members"), list) and isinstance(c.get("score"), (int, float))
              and not isinstance(c.get("score"), bool))
        if not ok:
            raise EvaluationInputError(f"{path}: campaign {number}: needs a numeric \"score\" and a \"members\" list")
        clusters.append((str(c.get("id", number)), float(c["score"]), [str(m) for m in c["members"]]))
    return clusters
