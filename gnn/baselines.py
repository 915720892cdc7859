"""The two non-GNN references: gradient-boosted trees on the application's own features,
and on those plus one- and two-hop neighbour aggregates.

Neighbour aggregates follow the graph anomaly detection literature's strong baseline:
for each application and each kind of link, the linked node's degree, and how many
*other* applications on it are labelled fraud or labelled at all **in the train split
only** (validation and test labels never leak in); over all identifiers, the neighbours'
count, fraud count and mean loan amount; and two hops out, the fraud count of the
neighbours' neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np

from gnn.data import GRAPH_RELS, PortfolioGraph
from gnn.metrics import best_f1_threshold
from graph.schema import IDENTIFIER_RELS

#: Kinds of link whose neighbours count as "sharing an identifier" (not dealer/agent).
SHARED_RELS: tuple[str, ...] = tuple(rel.value for rel in IDENTIFIER_RELS)


def neighbour_aggregates(pg: PortfolioGraph, train_mask: np.ndarray) -> tuple[np.ndarray,
                                                                               list[str]]:
    """One- and two-hop aggregates per application, using train labels only."""
    n_apps = len(pg.apps)
    y = pg.y.astype(float)
    fraud = np.where(train_mask, y, 0.0)
    known = train_mask.astype(float)
    loan = pg.apps["loan_amount"].astype(float).fillna(0.0).to_numpy()
    columns: list[np.ndarray] = []
    names: list[str] = []
    # Node-level sums per end label (the Phone label is shared by three rels).
    node_sums: dict[str, dict[str, np.ndarray]] = {}
    for label in {lb.value for lb in GRAPH_RELS.values()}:
        rels = [r.value for r, lb in GRAPH_RELS.items() if lb.value == label]
        size = len(pg.node_keys[label])
        sums = {k: np.zeros(size) for k in ("deg", "fraud", "known", "loan")}
        for rel in rels:
            a, n = pg.links[rel]
            np.add.at(sums["deg"], n, 1.0)
            np.add.at(sums["fraud"], n, fraud[a])
            np.add.at(sums["known"], n, known[a])
            np.add.at(sums["loan"], n, loan[a])
        node_sums[label] = sums
    hop1_count = np.zeros(n_apps)
    hop1_fraud = np.zeros(n_apps)
    hop1_loan = np.zeros(n_apps)
    for rel, label in GRAPH_RELS.items():
        a, n = pg.links[rel.value]
        sums = node_sums[label.value]
        deg = np.zeros(n_apps)
        other_fraud = np.zeros(n_apps)
        other_known = np.zeros(n_apps)
        deg[a] = sums["deg"][n]
        other_fraud[a] = sums["fraud"][n] - fraud[a]
        other_known[a] = sums["known"][n] - known[a]
        columns += [np.log1p(deg), other_fraud, other_known, other_fraud / (other_known + 1)]
        names += [f"{rel.value.lower()}_{k}" for k in ("log_degree", "train_fraud",
                                                       "train_labelled", "train_fraud_share")]
        if rel.value in SHARED_RELS:
            np.add.at(hop1_count, a, sums["deg"][n] - 1)
            np.add.at(hop1_fraud, a, sums["fraud"][n] - fraud[a])
            np.add.at(hop1_loan, a, sums["loan"][n] - loan[a])
    # Two hops: the one-hop fraud counts of the applications sharing an identifier.
    hop2_fraud = np.zeros(n_apps)
    hop2_count = np.zeros(n_apps)
    for rel, label in GRAPH_RELS.items():
        if rel.value not in SHARED_RELS:
            continue
        a, n = pg.links[rel.value]
        size = len(pg.node_keys[label.value])
        f_node = np.zeros(size)
        c_node = np.zeros(size)
        np.add.at(f_node, n, hop1_fraud[a])
        np.add.at(c_node, n, hop1_count[a])
        np.add.at(hop2_fraud, a, f_node[n] - hop1_fraud[a])
        np.add.at(hop2_count, a, c_node[n] - hop1_count[a])
    columns += [np.log1p(hop1_count), hop1_fraud, hop1_loan / np.maximum(hop1_count, 1),
                np.log1p(np.maximum(hop2_count, 0)), hop2_fraud]
    names += ["hop1_log_count", "hop1_train_fraud", "hop1_mean_loan", "hop2_log_count",
              "hop2_train_fraud"]
    return np.stack(columns, axis=1).astype(np.float32), names


@dataclass
class GbtModel:
    """A fitted LightGBM classifier with its validation-chosen threshold."""

    booster: lgb.LGBMClassifier
    threshold: float
    feature_names: list[str]

    def predict(self, features: np.ndarray) -> np.ndarray:
        return self.booster.predict_proba(features)[:, 1]


def fit_gbt(features: np.ndarray, y: np.ndarray, train: np.ndarray, val: np.ndarray,
            names: list[str], seed: int = 0) -> GbtModel:
    """LightGBM with early stopping and threshold on the validation rows."""
    positives = max(int(y[train].sum()), 1)
    booster = lgb.LGBMClassifier(
        n_estimators=500, learning_rate=0.05, num_leaves=15, min_child_samples=10,
        subsample=0.8, subsample_freq=1, colsample_bytree=0.8, random_state=seed,
        scale_pos_weight=min(50.0, (int(train.sum()) - positives) / positives),
        verbose=-1, n_jobs=2)
    booster.fit(features[train], y[train], eval_X=(features[val],), eval_y=(y[val],),
                eval_metric="average_precision",
                callbacks=[lgb.early_stopping(50, verbose=False)])
    val_score = booster.predict_proba(features[val])[:, 1]
    return GbtModel(booster, best_f1_threshold(y[val], val_score), names)
