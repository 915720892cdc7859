"""Neighbour aggregates for the strong baseline: train labels only, self excluded."""

from __future__ import annotations

import numpy as np

from gnn.baselines import neighbour_aggregates
from gnn.data import build_graph
from tests.gnn.graphs import portfolio_tables


def test_aggregates_use_train_labels_only_and_exclude_self() -> None:
    apps, links = portfolio_tables()
    pg = build_graph(apps, links)
    train = np.zeros(len(apps), dtype=bool)
    train[:8] = True  # A000-A004 fraud, A005-A007 legit, all on the shared device
    feats, names = neighbour_aggregates(pg, train)
    fraud = feats[:, names.index("submitted_from_device_train_fraud")]
    known = feats[:, names.index("submitted_from_device_train_labelled")]
    assert fraud[0] == 4 and known[0] == 7  # itself excluded
    assert fraud[5] == 5 and fraud[9] == 5 and known[9] == 8
    assert fraud[20] == 0  # its own device
    # Labels outside the train mask never change the features.
    pg.data["Application"].y[8:] = 1 - pg.data["Application"].y[8:]
    again, _ = neighbour_aggregates(pg, train)
    assert np.array_equal(again, feats)
    hop1 = feats[:, names.index("hop1_train_fraud")]
    assert hop1[9] >= 5
    assert feats[:, names.index("hop2_train_fraud")][1] > 0  # through A000's phone
