"""Ranking metrics and the validation threshold."""

from __future__ import annotations

import numpy as np

from gnn.metrics import best_f1_threshold, compute_metrics, recall_at_top


def test_recall_at_top_counts_positives_in_the_top_share() -> None:
    y = np.array([1] * 3 + [0] * 197)
    score = np.linspace(1, 0, 200)  # positives ranked 1st, 2nd, 3rd
    assert recall_at_top(y, score, 0.01) == 2 / 3  # top 2 rows of 200
    assert recall_at_top(np.zeros(10), score[:10]) is None


def test_metrics_and_best_f1_threshold() -> None:
    y = np.array([0, 0, 0, 1, 1])
    score = np.array([0.1, 0.2, 0.6, 0.7, 0.9])
    threshold = best_f1_threshold(y, score)
    assert threshold == 0.7
    m = compute_metrics(y, score, threshold)
    assert m.roc_auc == 1.0 and m.precision_at_threshold == 1.0
    assert m.recall_at_threshold == 1.0
    assert compute_metrics(np.zeros(3), np.ones(3)).roc_auc is None
