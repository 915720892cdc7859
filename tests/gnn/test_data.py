"""Graph building from tables, features, labels and the time split (no database)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gnn.data import APP, build_graph, label_targets, time_split
from gnn.features import node_features
from graph.schema import Label, Rel
from tests.gnn.graphs import portfolio_tables


def test_time_split_never_trains_on_newer_or_later_known_labels() -> None:
    rng = np.random.default_rng(0)
    ts = rng.uniform(0, 1000, 500)
    y = rng.choice([-1, 0, 1], 500)
    labeled = ts + rng.uniform(0, 400, 500)  # some labels arrive after the cut-off
    split = time_split(ts, labeled, y)
    assert ts[split.train].max() < ts[split.val].min()
    assert ts[split.val].max() < ts[split.test].min()
    assert labeled[split.train].max() < split.val_from
    assert not (split.train & split.val).any() and not (split.val & split.test).any()
    assert (y[split.train | split.val | split.test] >= 0).all()
    # A label known only after the cut-off is dropped, not moved to another split.
    late = (y >= 0) & (ts < split.val_from) & (labeled >= split.val_from)
    assert late.any() and not (late & (split.train | split.val | split.test)).any()


def test_dispositions_override_labels() -> None:
    apps = pd.DataFrame({
        "label": ["fraud", "fraud", None, "legit", None],
        "disposition": [None, "legitimate_relationship", "confirmed_fraud_straw_borrower",
                        None, None]})
    assert label_targets(apps).tolist() == [1, 0, 1, 0, -1]


def test_node_features_count_each_application_once() -> None:
    app = np.array([0, 0, 1, 2])
    node = np.array([0, 0, 0, 1])  # application 0 reaches node 0 through two rels
    ts = np.array([0.0, 86_400.0 * 9, 0.0])
    dealer = np.array([0, 1, 1])
    feats = node_features(app, node, 2, ts, dealer)
    assert feats[0, 0] == np.float32(np.log1p(2))  # degree 2, not 3
    assert feats[0, 1] == np.float32(np.log1p(9))  # 9 days between first and last
    assert feats[0, 2] == 1.0  # two dealers for two applications
    assert feats[1, 0] == np.float32(np.log1p(1))


def test_build_graph_from_tables() -> None:
    apps, links = portfolio_tables()
    pg = build_graph(apps, links)
    data = pg.data
    assert data[APP].num_nodes == 40
    assert data[APP].x.shape == (40, len(pg.spec.app_features))
    forward = data[APP, Rel.SUBMITTED_FROM_DEVICE.value, Label.DEVICE.value].edge_index
    reverse = data[Label.DEVICE.value, f"rev_{Rel.SUBMITTED_FROM_DEVICE.value}",
                   APP].edge_index
    assert forward.shape == (2, 40) and (reverse.flip(0) == forward).all()
    assert data[Label.DEVICE.value].num_nodes == 31  # one shared + 30 unique
    # Two phone rels meet on one Phone node type; the contact phone is A000's phone.
    assert data[Label.PHONE.value].num_nodes == 40
    # Price against the model's usual price: the 240k cars stand out.
    col = pg.spec.app_features.index("log_price_vs_model")
    assert pg.own[0, col] > 0.5 and abs(pg.own[1, col]) < 1e-6
    # Features are standardised with the spec's statistics.
    assert abs(float(data[APP].x[:, 0].mean())) < 1e-4
    # The same tables through a saved spec give the same features.
    again = build_graph(apps, links, spec=pg.spec)
    assert again.spec.fingerprint() == pg.spec.fingerprint()
    assert (again.data[APP].x == data[APP].x).all()
