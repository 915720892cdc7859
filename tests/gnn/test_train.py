"""The generic trainer on small graphs: it learns a planted signal, takes a homogeneous
``Data``, and never lets the test split choose anything."""

from __future__ import annotations

import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch_geometric.data import Data

from gnn.config import GnnConfig, ModelConfig, TrainConfig
from gnn.train import as_hetero, fit, predict
from tests.gnn.graphs import planted_graph

FAST = GnnConfig(model=ModelConfig(hidden=16),
                 train=TrainConfig(epochs=8, batch_size=256, lr=0.01, fanouts=[5, 10]))


def test_learns_planted_neighbour_signal_well_above_chance() -> None:
    data = planted_graph()
    result = fit(data, FAST, target="app")
    assert result.test is not None
    assert result.test.roc_auc is not None and result.test.roc_auc > 0.85
    # The application's own hint alone is far weaker: the graph is what is learned.
    test = data["app"].test_mask
    own_only = roc_auc_score(data["app"].y[test], data["app"].x[test, 0])
    assert result.test.roc_auc > own_only + 0.1


def test_threshold_and_checkpoint_ignore_the_test_split() -> None:
    data = planted_graph(n_app=800, n_dev=150)
    first = fit(data, FAST, target="app")
    flipped = data.clone()
    test = flipped["app"].test_mask
    flipped["app"].y[test] = 1 - flipped["app"].y[test]
    second = fit(flipped, FAST, target="app")
    assert second.threshold == pytest.approx(first.threshold)
    assert second.best_epoch == first.best_epoch
    assert second.val == first.val
    assert second.test is not None and first.test is not None
    assert second.test.roc_auc == pytest.approx(1 - first.test.roc_auc, abs=1e-6)


def test_homogeneous_data_and_full_batch_mode() -> None:
    hetero = planted_graph(n_app=400, n_dev=60)
    # Homogeneous: applications linked to each other when they share a device.
    dev = hetero["app", "uses", "dev"].edge_index[1]
    same = (dev[:, None] == dev[None, :]) & ~torch.eye(len(dev), dtype=torch.bool)
    data = Data(x=hetero["app"].x, y=hetero["app"].y, edge_index=same.nonzero().t(),
                train_mask=hetero["app"].train_mask, val_mask=hetero["app"].val_mask,
                test_mask=hetero["app"].test_mask)
    config = FAST.model_copy(deep=True)
    config.train.mode = "full"
    result = fit(data, config)
    assert result.target == "node"
    assert result.test is not None and result.test.roc_auc is not None
    assert result.test.roc_auc > 0.8
    graph, target = as_hetero(data)
    scores = predict(result.model, graph, torch.arange(5), config)
    assert scores.shape == (5,) and ((scores >= 0) & (scores <= 1)).all()


def test_missing_masks_are_refused() -> None:
    data = planted_graph(n_app=50, n_dev=5)
    del data["app"].val_mask
    with pytest.raises(ValueError, match="val_mask"):
        fit(data, FAST, target="app")
