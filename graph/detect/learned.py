"""A model fitted on the graph's `labels`: positive–unlabelled learning over scored clusters (docs/detection.md,
"Learned from labels").

The calibrated score (``scoring.py``) needs no labels. When analysts have labelled accounts (`fraud`, and
optionally `benign`), those labels say which *combination* of evidence their operators show, and a model can
learn it. But labels are few and one-sided: a cluster with a `fraud` label is an operator cluster; a cluster
without one is *unlabelled*, not honest (most operators are never labelled). That is the positive–unlabelled
setting of Elkan & Noto (KDD 2008, "Learning classifiers from only positive and unlabeled data"):

1. Fit a probabilistic classifier ``g(x) ≈ P(s = 1 | x)``, s = "the cluster is labelled fraud", on labelled
   positives against everything else (benign-labelled clusters are in the s = 0 class, as they should be).
2. If labelled operators are a random sample of all operators ("selected completely at random"), then
   ``P(s = 1 | x) = c · P(y = 1 | x)`` with the constant ``c = P(s = 1 | y = 1)``, the labelled share of
   operator clusters; ``c`` is estimated as the mean of ``g`` over positives the model did not see.
3. ``P(y = 1 | x) = g(x) / c``, clipped to [0, 1].

Features are each cluster's surprise per measurement of the calibrated scoring (−ln of its rarity among the run's
clusters, in nats: scale-free from one graph to the next), ``benign_organization`` included. The classifier is
logistic regression with a unit Gaussian prior on the standardised coefficients (L2, Newton's method, numpy).

Every reported probability is out-of-fold: clusters are split into k = min(5, labelled positives) folds
(positives and the rest spread evenly), and a fold's clusters are predicted by a model fitted on the other folds,
divided by a ``c`` estimated by a cross-validation *inside* those folds. So no label of a cluster feeds its own
prediction, not even through ``c``.

The model never changes the flag: the flag rule stays the calibrated one (expected false flags ≤ α). Its
probability is shown beside the score, and a tracked but unflagged cluster that the model puts at
REVIEW_PROBABILITY or more carries "labels suggest review".
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np

from graph import db
from graph.detect.evaluate import auc
from graph.detect.params import ScoringParams
from graph.detect.scoring import ClusterScore

METHOD = "positive-unlabelled logistic regression (Elkan & Noto 2008), out-of-fold"
# Nested cross-validation needs two labelled positives in every training set, so that c is estimated on a
# positive the model did not see: with k = min(MAX_FOLDS, positives) folds that takes at least three.
MIN_POSITIVE_CLUSTERS = 3
MAX_FOLDS = 5
# Prior precision of each standardised coefficient: a unit Gaussian prior (MAP logistic regression). A few
# labelled clusters cannot support large coefficients; the data overrule the prior as labels accumulate.
L2_PRIOR = 1.0
# A tracked, unflagged cluster the model puts at least this likely to be an operator's ("more likely than not")
# is surfaced as "labels suggest review". It never becomes flagged.
REVIEW_PROBABILITY = 0.5
RELIABILITY_BINS = 5


@dataclass
class LearnedModel:
    """What was fitted on the labels, or why nothing was."""
    fitted: bool
    reason: str = ""
    positives: int = 0            # clusters labelled operator (more fraud than benign labels among members)
    negatives: int = 0            # clusters labelled benign only (reliable negatives)
    unlabelled: int = 0
    fraud_accounts: int = 0       # accounts labelled fraud in the graph
    fraud_accounts_clustered: int = 0  # ... of them in a scored cluster
    folds: int = 0
    features: list[str] = field(default_factory=list)
    c: float = math.nan           # mean of the per-fold estimates of P(labelled | operator)
    c_range: tuple[float, float] = (math.nan, math.nan)
    auc: float = math.nan         # out-of-fold: labelled positives vs every other cluster
    auc_vs_benign: float | None = None  # out-of-fold: labelled positives vs benign-labelled clusters
    brier: float = math.nan       # of the predicted labelled share c·p against which clusters are labelled
    reliability: list[dict] = field(default_factory=list)
    probability: dict[str, float] = field(default_factory=dict)  # cluster key -> out-of-fold P(operator)
    c_per_cluster: dict[str, float] = field(default_factory=dict)  # cluster key -> the c its prediction used
    labelled: dict[str, tuple[str, int]] = field(default_factory=dict)  # cluster key -> (fraud|benign, accounts)

    def summary(self) -> dict:
        """JSON-ready description (stored on the DetectionRun and exported), without per-cluster values."""
        if not self.fitted:
            return {"fitted": False, "reason": self.reason, "labelled_positive_clusters": self.positives,
                    "minimum_positive_clusters": MIN_POSITIVE_CLUSTERS}
        return {
            "fitted": True, "method": METHOD, "features": self.features, "folds": self.folds,
            "labelled_positive_clusters": self.positives, "benign_labelled_clusters": self.negatives,
            "unlabelled_clusters": self.unlabelled, "fraud_accounts": self.fraud_accounts,
            "fraud_accounts_in_scored_clusters": self.fraud_accounts_clustered,
            "c": _round(self.c), "c_range": [_round(v) for v in self.c_range],
            "auc": _round(self.auc),
            "auc_vs_benign": None if self.auc_vs_benign is None else _round(self.auc_vs_benign),
            "brier": _round(self.brier), "reliability": self.reliability,
            "review_probability": REVIEW_PROBABILITY,
        }

    def paragraph(self) -> str:
        """What ``linkwatch detect`` prints about the model: a few lines."""
        if not self.fitted:
            return f"labels: {self.reason}"
        bins = "; ".join(f"{b['low']:.1f}-{b['high']:.1f}: {b['clusters']:,} cluster{'' if b['clusters'] == 1 else 's'}"
                         f", expected {b['expected_labelled']:.0%} labelled, observed {b['observed_labelled']:.0%}"
                         for b in self.reliability if b["clusters"])
        benign = (f" ({self.negatives:,} of them benign-labelled; AUC against those {self.auc_vs_benign:.2f})"
                  if self.negatives and self.auc_vs_benign is not None else "")
        return (f"labels: a model fitted on {self.positives:,} labelled operator clusters against "
                f"{self.unlabelled + self.negatives:,} other clusters{benign} ({METHOD}, {self.folds} folds): "
                f"c = {self.c:.2f} (share of operator clusters that carry a label; {self.c_range[0]:.2f}-"
                f"{self.c_range[1]:.2f} over the folds), AUC of labelled vs the rest {self.auc:.2f}, "
                f"Brier {self.brier:.3f}. Reliability: {bins}. "
                f"The flag rule is unchanged; the model's probability is shown beside each score.")

    def sentence(self, cluster: str) -> str:
        """The evidence sentence of one cluster."""
        p = self.probability[cluster]
        how = f"(cross-validated; labels' AUC {self.auc:.2f})"
        label = self.labelled.get(cluster)
        if label:
            kind, accounts = label
            return (f"{accounts:,} of its accounts {'is' if accounts == 1 else 'are'} labelled {kind}; a model that "
                    f"never saw its labels, fitted on the other labelled operator clusters, puts it at {p:.2f} {how}")
        return f"a model fitted on {self.positives:,} labelled operator clusters puts this cluster at {p:.2f} {how}"


def _round(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 4)


# ---- labels -----------------------------------------------------------------------------------------------

def read_labels() -> dict[str, str]:
    """account id -> ``fraud`` or ``benign`` for every labelled account in the graph (loaded from `labels`)."""
    return {r["account_id"]: r["label"] for r in db.run("detect/account_labels", labels=["fraud", "benign"])}


def cluster_labels(scores: list[ClusterScore], labels: dict[str, str]) -> dict[str, tuple[str, int]]:
    """cluster key -> (``fraud``, accounts) when more of its members are labelled fraud than benign;
    (``benign``, accounts) when members are labelled benign and none fraud; clusters with neither are unlabelled."""
    found = {}
    for s in scores:
        fraud = sum(labels.get(a) == "fraud" for a in s.members)
        benign = sum(labels.get(a) == "benign" for a in s.members)
        if fraud > benign:
            found[s.cluster] = ("fraud", fraud)
        elif benign and not fraud:
            found[s.cluster] = ("benign", benign)
    return found


# ---- the classifier ---------------------------------------------------------------------------------------

def feature_matrix(scores: list[ClusterScore]) -> tuple[list[str], np.ndarray]:
    """Per cluster: the surprise of each measurement (−ln of its rarity among the run's clusters, nats), the
    values the calibrated score is built from. Rarity, not raw values: scale-free from one graph to the next."""
    names = sorted({name for s in scores for name in s.surprise})
    rows = [[s.surprise.get(name, 0.0) for name in names] for s in scores]
    return names, np.array(rows, dtype=float).reshape(len(scores), len(names))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))


@dataclass(frozen=True)
class Logistic:
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # intercept first

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = (x - self.mean) / self.scale
        return _sigmoid(self.weights[0] + z @ self.weights[1:])


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2_PRIOR, iterations: int = 100) -> Logistic:
    """L2-penalised logistic regression on standardised features by Newton's method (the intercept is not
    penalised, beyond a negligible amount that keeps it finite if a training set had one class only)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0  # a feature constant in training carries nothing
    design = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    penalty = np.full(design.shape[1], float(l2))
    penalty[0] = 1e-6
    w = np.zeros(design.shape[1])
    for _ in range(iterations):
        p = _sigmoid(design @ w)
        gradient = design.T @ (p - y) + penalty * w
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.max(np.abs(step)) < 1e-9:
            break
    return Logistic(mean, scale, w)


def assign_folds(labelled: np.ndarray, order: np.ndarray, k: int) -> np.ndarray:
    """Fold of each row: positives dealt round-robin in ``order``, then the others continuing the deal, so
    every fold gets ⌊P/k⌋ or ⌈P/k⌉ positives and about as many of the rest."""
    folds = np.empty(len(labelled), dtype=int)
    for i, row in enumerate(r for r in order if labelled[r]):
        folds[row] = i % k
    for i, row in enumerate(r for r in order if not labelled[r]):
        folds[row] = i % k
    return folds


def _held_out(x: np.ndarray, s: np.ndarray, folds: np.ndarray, l2: float) -> np.ndarray:
    """g(x) of every row from a model fitted on the other folds."""
    g = np.empty(len(s))
    for f in np.unique(folds):
        test = folds == f
        g[test] = fit_logistic(x[~test], s[~test], l2).predict(x[test])
    return g


def out_of_fold(x: np.ndarray, s: np.ndarray, folds: np.ndarray, l2: float = L2_PRIOR
                ) -> tuple[np.ndarray, np.ndarray]:
    """(g, c) per row: g = P(labelled | x) from a model fitted on the other folds; c = that model's
    P(labelled | operator), the mean of g over the training folds' positives in a cross-validation inside them.
    Nothing computed for a row depends on its own label."""
    g = _held_out(x, s, folds, l2)
    c = np.empty(len(s))
    for f in np.unique(folds):
        train = np.flatnonzero(folds != f)
        inner_s = s[train]
        if inner_s.sum() < 2:
            raise ValueError("every training set needs two labelled positives (MIN_POSITIVE_CLUSTERS)")
        inner = assign_folds(inner_s.astype(bool), np.arange(len(train)), min(MAX_FOLDS, int(inner_s.sum())))
        inner_g = _held_out(x[train], inner_s, inner, l2)
        c[folds == f] = inner_g[inner_s == 1].mean()
    return g, c


def reliability(probability: np.ndarray, c: np.ndarray, s: np.ndarray, bins: int = RELIABILITY_BINS) -> list[dict]:
    """Per bin of predicted probability: clusters, their mean probability, the labelled share the model
    expects (c·p: only a share c of operator clusters carries a label) and the share observed."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.minimum(np.searchsorted(edges, probability, side="right") - 1, bins - 1)
    table = []
    for b in range(bins):
        inside = which == b
        n = int(inside.sum())
        table.append({"low": round(float(edges[b]), 2), "high": round(float(edges[b + 1]), 2), "clusters": n,
                      "mean_probability": _round(probability[inside].mean()) if n else None,
                      "expected_labelled": _round((c * probability)[inside].mean()) if n else None,
                      "observed_labelled": _round(s[inside].mean()) if n else None})
    return table


def _order(scores: list[ClusterScore]) -> np.ndarray:
    """A deterministic order of clusters unrelated to their scores or labels: by a hash of the first member."""
    keys = [hashlib.sha1(s.members[0].encode("utf-8") if s.members else s.cluster.encode()).hexdigest()
            for s in scores]
    return np.array(sorted(range(len(scores)), key=lambda i: (keys[i], scores[i].cluster)), dtype=int)


def fit(scores: list[ClusterScore], labels: dict[str, str]) -> LearnedModel | None:
    """The model for this run's scored clusters, or None when the graph holds no labels at all."""
    if not labels:
        return None
    fraud_accounts = sum(v == "fraud" for v in labels.values())
    labelled = cluster_labels(scores, labels)
    members = {a for s in scores for a in s.members}
    clustered = sum(1 for a, v in labels.items() if v == "fraud" and a in members)
    positives = sum(kind == "fraud" for kind, _ in labelled.values())
    if positives < MIN_POSITIVE_CLUSTERS:
        return LearnedModel(False, (
            f"{positives} scored cluster{'' if positives == 1 else 's'} hold{'s' if positives == 1 else ''} "
            f"accounts labelled fraud ({clustered:,} of {fraud_accounts:,} fraud-labelled accounts are in scored "
            f"clusters); a cross-validated model needs at least {MIN_POSITIVE_CLUSTERS}: no model fitted"),
            positives=positives, fraud_accounts=fraud_accounts, fraud_accounts_clustered=clustered)
    names, x = feature_matrix(scores)
    s = np.array([labelled.get(sc.cluster, ("", 0))[0] == "fraud" for sc in scores], dtype=float)
    negative = np.array([labelled.get(sc.cluster, ("", 0))[0] == "benign" for sc in scores])
    k = min(MAX_FOLDS, positives)
    folds = assign_folds(s.astype(bool), _order(scores), k)
    g, c = out_of_fold(x, s, folds)
    # the reported probabilities (4 decimals) are the ones the AUC, Brier score and reliability table describe
    probability = np.round(np.clip(g / c, 0.0, 1.0), 4)
    per_fold = [float(c[folds == f][0]) for f in range(k)]
    positive = s == 1
    return LearnedModel(
        True, positives=positives, negatives=int(negative.sum()), unlabelled=int(len(s) - positives - negative.sum()),
        fraud_accounts=fraud_accounts, fraud_accounts_clustered=clustered, folds=k, features=names,
        c=float(np.mean(per_fold)), c_range=(min(per_fold), max(per_fold)),
        auc=auc(probability, positive),
        auc_vs_benign=auc(probability[positive | negative], positive[positive | negative]) if negative.any() else None,
        brier=float(np.mean((c * probability - s) ** 2)),
        reliability=reliability(probability, c, s),
        probability={sc.cluster: float(p) for sc, p in zip(scores, probability)},
        c_per_cluster={sc.cluster: float(v) for sc, v in zip(scores, c)},
        labelled=labelled)


def annotate(scores: list[ClusterScore], model: LearnedModel | None, params: ScoringParams) -> None:
    """Give every scored cluster its learned probability and evidence sentence (nothing without a fitted model).
    A tracked cluster below the flag that the model puts at REVIEW_PROBABILITY or more says so; its flag does
    not change."""
    for s in scores:
        s.learned_probability, s.learned_sentence = None, ""
        if model is None or not model.fitted:
            continue
        p = model.probability[s.cluster]
        s.learned_probability = p
        s.learned_sentence = model.sentence(s.cluster)
        if suggests_review(s, params):
            s.learned_sentence += "; labels suggest review (the score alone does not flag it)"


def suggests_review(s: ClusterScore, params: ScoringParams) -> bool:
    """Tracked, not flagged, and the model puts it at REVIEW_PROBABILITY or more."""
    return (s.learned_probability is not None and s.learned_probability >= REVIEW_PROBABILITY
            and params.track_threshold <= s.score < params.flag_threshold)
