"""Neighbour aggregates for the strong baseline: train labels only, point in time."""

from __future__ import annotations

import numpy as np

from gnn.baselines import neighbour_aggregates
from gnn.data import build_graph
from tests.gnn.graphs import portfolio_tables


def test_aggregates_count_train_labels_known_before_submission() -> None:
    apps, links = portfolio_tables()
    apps["labeled_ts"] = np.nan  # each label known from its application's submission on
    pg = build_graph(apps, links)
    train = np.zeros(len(apps), dtype=bool)
    train[:8] = True  # A000-A004 fraud, A005-A007 legit, all on the shared device
    feats, names = neighbour_aggregates(pg, train)
    fraud = feats[:, names.index("submitted_from_device_train_fraud")]
    known = feats[:, names.index("submitted_from_device_train_labelled")]
    # A00k (submitted on day k) sees the train labels of A000..A00(k-1) only.
    assert fraud[:10].tolist() == [0, 1, 2, 3, 4, 5, 5, 5, 5, 5]
    assert known[:10].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 8]
    assert fraud[20] == 0  # its own device
    # Labels outside the train mask never change the features.
    pg.data["Application"].y[8:] = 1 - pg.data["Application"].y[8:]
    again, _ = neighbour_aggregates(pg, train)
    assert np.array_equal(again, feats)
    assert feats[:, names.index("hop1_train_fraud")][9] == 5
    degree = feats[:, names.index("submitted_from_device_log_degree")]
    assert degree[0] == np.float32(np.log1p(10)) and degree[20] == np.float32(np.log1p(1))


def test_labels_known_later_are_not_counted() -> None:
    apps, links = portfolio_tables()  # labels arrive 30 days after submission
    pg = build_graph(apps, links)
    train = np.zeros(len(apps), dtype=bool)
    train[:8] = True
    feats, names = neighbour_aggregates(pg, train)
    # The shared device's applications were all submitted within 10 days: no label known.
    assert feats[:10, names.index("submitted_from_device_train_fraud")].sum() == 0
