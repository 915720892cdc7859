"""One evaluation run: the GNN and both gradient-boosted baselines on the same time split.

Each model picks its checkpoint (early stopping) and threshold on validation; the test
split is only read for the figures. The GNN ships only if it beats both baselines on
average precision on validation *and* on test; otherwise the baseline with the better
validation average precision ships (``Comparison.ship``), and the report says so.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from pydantic import BaseModel

from gnn.baselines import GBT_NEIGHBOURS, GBT_OWN, GbtModel, fit_gbt, neighbour_aggregates
from gnn.config import GnnConfig
from gnn.data import APP, PortfolioGraph
from gnn.metrics import Metrics, compute_metrics
from gnn.train import TrainResult, fit, predict

log = logging.getLogger(__name__)

GNN = "gnn"
__all__ = ["GBT_NEIGHBOURS", "GBT_OWN", "GNN", "Comparison", "EvaluationRun", "evaluate"]


class ModelFigures(BaseModel):
    """One model's figures on validation and test, and its training time."""

    name: str
    val: Metrics
    test: Metrics
    threshold: float
    train_seconds: float
    #: Extra test sets (e.g. ground truth of every application in the test period).
    extra: dict[str, Metrics] = {}


class Comparison(BaseModel):
    """The three models on one split, and which one should ship."""

    models: dict[str, ModelFigures]
    split: dict[str, int]
    gnn_is_champion: bool
    #: The best on test average precision (for the report).
    best: str
    #: The model to ship: the GNN if ``gnn_is_champion``, else the better baseline.
    ship: str = GNN


@dataclass
class EvaluationRun:
    """What an evaluation produced: the figures and the fitted models."""

    comparison: Comparison
    gnn: TrainResult
    gbt_own: GbtModel
    gbt_neighbours: GbtModel
    #: Model -> score per application (NaN where the GNN was not asked: see ``evaluate``).
    scores: dict[str, np.ndarray] = field(default_factory=dict)


def _figures(name: str, score: np.ndarray, y: np.ndarray, pg: PortfolioGraph,
             threshold: float, seconds: float,
             extra_sets: dict[str, tuple[np.ndarray, np.ndarray]]) -> ModelFigures:
    split = pg.split
    assert split is not None
    return ModelFigures(
        name=name, threshold=threshold, train_seconds=seconds,
        val=compute_metrics(y[split.val], score[split.val], threshold),
        test=compute_metrics(y[split.test], score[split.test], threshold),
        extra={k: compute_metrics(ys[mask], score[mask], threshold)
               for k, (mask, ys) in extra_sets.items()},
    )


def _ap(metrics: Metrics) -> float:
    return metrics.average_precision or 0.0


def gnn_beats_both(figures: dict[str, ModelFigures]) -> bool:
    """The GNN's average precision beats both baselines' on validation and on test."""
    return all(_ap(getattr(figures[GNN], part)) > _ap(getattr(figures[other], part))
               for other in (GBT_OWN, GBT_NEIGHBOURS) for part in ("val", "test"))


def to_ship(figures: dict[str, ModelFigures]) -> str:
    """The GNN if it beats both baselines; otherwise the better baseline on validation."""
    if gnn_beats_both(figures):
        return GNN
    return max((GBT_OWN, GBT_NEIGHBOURS), key=lambda n: _ap(figures[n].val))


def evaluate(pg: PortfolioGraph, config: GnnConfig | None = None,
             extra_sets: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
             ) -> EvaluationRun:
    """Train the GNN and both baselines on ``pg``'s split and compare them.

    ``extra_sets`` maps a name to (application mask, 0/1 targets) scored with the same
    models, e.g. the synthetic ground truth of all applications in the test period.
    """
    config = config or GnnConfig()
    extra_sets = extra_sets or {}
    split = pg.split
    if split is None:
        raise ValueError("no labelled applications: nothing to train or evaluate on")
    y = pg.y

    started = time.perf_counter()
    gnn = fit(pg.data, config, target=APP)
    gnn_seconds = time.perf_counter() - started
    # Only the rows some figure reads: predicting all of a 1M portfolio costs minutes.
    wanted = split.val | split.test
    for mask, _ in extra_sets.values():
        wanted = wanted | mask
    gnn_score = np.full(len(pg.apps), np.nan)
    rows = np.flatnonzero(wanted)
    gnn_score[rows] = predict(gnn.model, pg.data, torch.from_numpy(rows), config)

    own_names = list(pg.spec.app_features)
    started = time.perf_counter()
    gbt_own = fit_gbt(pg.own, y, split.train, split.val, own_names, seed=config.train.seed)
    own_seconds = time.perf_counter() - started

    started = time.perf_counter()
    hood, hood_names = neighbour_aggregates(pg, split.train)
    both = np.concatenate([pg.own, hood], axis=1)
    gbt_hood = fit_gbt(both, y, split.train, split.val, own_names + hood_names,
                       seed=config.train.seed)
    hood_seconds = time.perf_counter() - started

    scores = {GNN: gnn_score, GBT_OWN: gbt_own.predict(pg.own),
              GBT_NEIGHBOURS: gbt_hood.predict(both)}
    figures = {
        GNN: _figures(GNN, scores[GNN], y, pg, gnn.threshold, gnn_seconds, extra_sets),
        GBT_OWN: _figures(GBT_OWN, scores[GBT_OWN], y, pg, gbt_own.threshold, own_seconds,
                          extra_sets),
        GBT_NEIGHBOURS: _figures(GBT_NEIGHBOURS, scores[GBT_NEIGHBOURS], y, pg,
                                 gbt_hood.threshold, hood_seconds, extra_sets),
    }

    comparison = Comparison(
        models=figures, best=max(figures, key=lambda n: _ap(figures[n].test)),
        gnn_is_champion=gnn_beats_both(figures), ship=to_ship(figures),
        split={"train": int(split.train.sum()), "val": int(split.val.sum()),
               "test": int(split.test.sum()), "train_fraud": int(y[split.train].sum()),
               "val_fraud": int(y[split.val].sum()), "test_fraud": int(y[split.test].sum())},
    )
    for name, fig in figures.items():
        log.info("%s test: auc %s ap %s recall@1%% %s", name, fig.test.roc_auc,
                 fig.test.average_precision, fig.test.recall_at_1pct)
    return EvaluationRun(comparison, gnn, gbt_own, gbt_hood, scores)
