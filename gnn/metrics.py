"""Ranking metrics for rare-fraud scoring, and the threshold chosen on validation."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score


class Metrics(BaseModel):
    """How well scores rank the positives of one split."""

    n: int
    positives: int
    roc_auc: float | None
    average_precision: float | None
    #: Share of all positives found among the top 1% highest scores.
    recall_at_1pct: float | None
    precision_at_threshold: float | None = None
    recall_at_threshold: float | None = None


def recall_at_top(y: np.ndarray, score: np.ndarray, share: float = 0.01) -> float | None:
    """Share of positives among the ``share`` highest-scored rows (at least one row)."""
    positives = int(y.sum())
    if positives == 0:
        return None
    k = max(1, int(round(len(y) * share)))
    top = np.argsort(-score, kind="stable")[:k]
    return float(y[top].sum() / positives)


def compute_metrics(y: np.ndarray, score: np.ndarray,
                    threshold: float | None = None) -> Metrics:
    """ROC-AUC, average precision and recall at the top 1% (None where undefined)."""
    y = np.asarray(y).astype(int)
    score = np.asarray(score, dtype=float)
    both = 0 < y.sum() < len(y)
    out = Metrics(
        n=len(y), positives=int(y.sum()),
        roc_auc=float(roc_auc_score(y, score)) if both else None,
        average_precision=float(average_precision_score(y, score)) if both else None,
        recall_at_1pct=recall_at_top(y, score),
    )
    if threshold is not None and len(y):
        flagged = score >= threshold
        out.precision_at_threshold = float(y[flagged].mean()) if flagged.any() else None
        out.recall_at_threshold = float(flagged[y == 1].mean()) if y.sum() else None
    return out


def best_f1_threshold(y: np.ndarray, score: np.ndarray) -> float:
    """The score cut-off with the best F1 on these (validation) rows; 0.5 if undefined."""
    y = np.asarray(y).astype(int)
    if y.sum() == 0 or y.sum() == len(y):
        return 0.5
    precision, recall, thresholds = precision_recall_curve(y, score)
    f1 = 2 * precision[:-1] * recall[:-1] / np.clip(precision[:-1] + recall[:-1], 1e-12, None)
    return float(thresholds[int(np.argmax(f1))])
