"""The two non-GNN references: gradient-boosted trees on the application's own features,
and on those plus one- and two-hop neighbour aggregates.

Neighbour aggregates follow the graph anomaly detection literature's strong baseline:
for each application and each kind of link, the linked node's degree, and how many
*other* applications on it are labelled fraud or labelled at all **in the train split
only** (validation and test labels never leak in); over all identifiers, the neighbours'
count, fraud count and mean loan amount; and two hops out, the fraud count of the
neighbours' neighbours.

Two-hop aggregates only go through identifiers that at most ``HOP2_MAX_DEGREE``
applications share (a ring's phone, not a dealer's Wi-Fi or a giant employer): a hub
adds nothing but noise two hops out, and the cap keeps scoring one application from
Neo4j bounded (``gnn.gbt_score`` reads exactly these features for one application).

Label counts are point-in-time: an application only counts the neighbours' train labels
that were known (``labeled_ts``) before it was submitted. Without that, a train
application sees its ring-mates' labels from the same period while a test application
(newer) sees none, and the trees learn a feature that is absent at test time (measured:
test AP 0.65 with plain counts against 0.84 for own features alone).
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np

from gnn.data import GRAPH_RELS, PortfolioGraph
from gnn.features import app_feature_names
from gnn.metrics import best_f1_threshold
from graph.schema import IDENTIFIER_RELS

GBT_OWN = "gbt_own"
GBT_NEIGHBOURS = "gbt_neighbours"

#: Kinds of link whose neighbours count as "sharing an identifier" (not dealer/agent).
SHARED_RELS: tuple[str, ...] = tuple(rel.value for rel in IDENTIFIER_RELS)
#: Identifiers shared by more applications than this are not expanded two hops out.
HOP2_MAX_DEGREE = 50


def _known_before(event_app: np.ndarray, event_node: np.ndarray, query_app: np.ndarray,
                  query_node: np.ndarray, ts: np.ndarray, event_ts: np.ndarray,
                  value: np.ndarray) -> np.ndarray:
    """For each query link (application, node): the sum of ``value`` over the node's
    applications (from the event links) whose event time is before the querying
    application's submission time. ``event_ts`` is NaN where there is no event."""
    has = ~np.isnan(event_ts[event_app]) & (value[event_app] != 0)
    e_node = event_node[has].astype(float)
    e_time = event_ts[event_app[has]]
    e_val = value[event_app[has]]
    if len(e_node) == 0 or len(query_app) == 0:
        return np.zeros(len(query_app))
    # One sorted composite key: the node number, plus the time scaled into [0, 0.5).
    q_time = ts[query_app]
    lo = float(min(e_time.min(), q_time.min()))
    span = float(max(e_time.max(), q_time.max())) - lo + 1.0
    key = e_node + (e_time - lo) / span * 0.5
    order = np.argsort(key, kind="stable")
    key, e_val = key[order], e_val[order]
    cum = np.concatenate([[0.0], np.cumsum(e_val)])
    q_node = query_node.astype(float)
    start = np.searchsorted(key, q_node, side="left")
    end = np.searchsorted(key, q_node + (q_time - lo) / span * 0.5, side="left")
    return cum[end] - cum[start]


_PER_REL = ("log_degree", "train_fraud", "train_labelled", "train_fraud_share")
_HOPS = ("hop1_log_count", "hop1_train_fraud", "hop1_mean_loan", "hop2_log_count",
         "hop2_train_fraud")


def neighbour_feature_names() -> list[str]:
    """Columns of ``neighbour_aggregates``, in order."""
    return [f"{rel.value.lower()}_{k}" for rel in GRAPH_RELS for k in _PER_REL] + list(_HOPS)


def gbt_feature_names(kind: str, link_rels: list[str], rings: bool = False) -> list[str]:
    """The input columns of a baseline: own features (with the ring features, with
    ``rings``), plus neighbour aggregates."""
    own = app_feature_names(link_rels, rings)
    return own if kind == GBT_OWN else own + neighbour_feature_names()


def gbt_features(pg: PortfolioGraph, kind: str, label_mask: np.ndarray) -> np.ndarray:
    """A baseline's input rows for every application; neighbour aggregates count the
    labels in ``label_mask`` (the train split in evaluation, every label when scoring)."""
    if kind == GBT_OWN:
        return pg.own
    hood, _ = neighbour_aggregates(pg, label_mask)
    return np.concatenate([pg.own, hood], axis=1)


def neighbour_aggregates(pg: PortfolioGraph, train_mask: np.ndarray) -> tuple[np.ndarray,
                                                                               list[str]]:
    """One- and two-hop aggregates per application, using train labels only."""
    n_apps = len(pg.apps)
    y = pg.y.astype(float)
    ts = pg.apps["ts"].to_numpy(dtype=float)
    labeled = pg.apps["labeled_ts"].to_numpy(dtype=float)
    # Train labels only, each known from its labelled_at (or submission) time on.
    event_ts = np.where(train_mask, np.where(np.isnan(labeled), ts, labeled), np.nan)
    fraud = np.where(train_mask, y, 0.0)
    known = train_mask.astype(float)
    loan = pg.apps["loan_amount"].astype(float).fillna(0.0).to_numpy()
    columns: list[np.ndarray] = []
    # Node-level sums and links per end label (the Phone label is shared by three rels).
    node_sums: dict[str, dict[str, np.ndarray]] = {}
    label_links: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for label in {lb.value for lb in GRAPH_RELS.values()}:
        rels = [r.value for r, lb in GRAPH_RELS.items() if lb.value == label]
        size = len(pg.node_keys[label])
        sums = {k: np.zeros(size) for k in ("deg", "loan")}
        for rel in rels:
            a, n = pg.links[rel]
            np.add.at(sums["deg"], n, 1.0)
            np.add.at(sums["loan"], n, loan[a])
        node_sums[label] = sums
        label_links[label] = (np.concatenate([pg.links[r][0] for r in rels]),
                              np.concatenate([pg.links[r][1] for r in rels]))
    hop1_count = np.zeros(n_apps)
    hop1_fraud = np.zeros(n_apps)
    hop1_loan = np.zeros(n_apps)
    for rel, label in GRAPH_RELS.items():
        a, n = pg.links[rel.value]
        sums = node_sums[label.value]
        ev_a, ev_n = label_links[label.value]
        deg = np.zeros(n_apps)
        other_fraud = np.zeros(n_apps)
        other_known = np.zeros(n_apps)
        deg[a] = sums["deg"][n]
        other_fraud[a] = _known_before(ev_a, ev_n, a, n, ts, event_ts, fraud)
        other_known[a] = _known_before(ev_a, ev_n, a, n, ts, event_ts, known)
        columns += [np.log1p(deg), other_fraud, other_known, other_fraud / (other_known + 1)]
        if rel.value in SHARED_RELS:
            np.add.at(hop1_count, a, sums["deg"][n] - 1)
            np.add.at(hop1_fraud, a, other_fraud[a])
            np.add.at(hop1_loan, a, sums["loan"][n] - loan[a])
    # Two hops, through non-hub identifiers only (HOP2_MAX_DEGREE) on both hops: the
    # fraud counts (point in time) of the applications sharing an identifier that were
    # submitted earlier, and the one-hop neighbour counts of every application sharing one.
    hop1_fraud_small = np.zeros(n_apps)
    for rel, label in GRAPH_RELS.items():
        if rel.value in SHARED_RELS:
            a, n = pg.links[rel.value]
            small = node_sums[label.value]["deg"][n] <= HOP2_MAX_DEGREE
            ev_a, ev_n = label_links[label.value]
            np.add.at(hop1_fraud_small, a[small], _known_before(
                ev_a, ev_n, a[small], n[small], ts, event_ts, fraud))
    hop2_fraud = np.zeros(n_apps)
    hop2_count = np.zeros(n_apps)
    for rel, label in GRAPH_RELS.items():
        if rel.value not in SHARED_RELS:
            continue
        a, n = pg.links[rel.value]
        small = node_sums[label.value]["deg"][n] <= HOP2_MAX_DEGREE
        a, n = a[small], n[small]
        ev_a, ev_n = label_links[label.value]
        c_node = np.zeros(len(pg.node_keys[label.value]))
        np.add.at(c_node, ev_n, hop1_count[ev_a])
        np.add.at(hop2_fraud, a, _known_before(ev_a, ev_n, a, n, ts, ts, hop1_fraud_small))
        # Every other link to the node (one of them may be this application's other link).
        np.add.at(hop2_count, a, c_node[n] - hop1_count[a])
    columns += [np.log1p(hop1_count), hop1_fraud, hop1_loan / np.maximum(hop1_count, 1),
                np.log1p(np.maximum(hop2_count, 0)), hop2_fraud]
    return np.stack(columns, axis=1).astype(np.float32), neighbour_feature_names()


@dataclass
class GbtModel:
    """A fitted LightGBM classifier with its validation-chosen threshold."""

    booster: lgb.LGBMClassifier
    threshold: float
    feature_names: list[str]

    def predict(self, features: np.ndarray) -> np.ndarray:
        return self.booster.booster_.predict(features)


def fit_gbt(features: np.ndarray, y: np.ndarray, train: np.ndarray, val: np.ndarray,
            names: list[str], seed: int = 0) -> GbtModel:
    """LightGBM with early stopping and threshold on the validation rows."""
    positives = max(int(y[train].sum()), 1)
    booster = lgb.LGBMClassifier(
        n_estimators=500, learning_rate=0.05, num_leaves=15, min_child_samples=10,
        subsample=0.8, subsample_freq=1, colsample_bytree=0.8, random_state=seed,
        scale_pos_weight=min(50.0, (int(train.sum()) - positives) / positives),
        verbose=-1, n_jobs=2)
    booster.fit(features[train], y[train], feature_name=list(names),
                eval_X=(features[val],), eval_y=(y[val],),
                eval_metric="average_precision",
                callbacks=[lgb.early_stopping(50, verbose=False)])
    val_score = booster.booster_.predict(features[val])
    return GbtModel(booster, best_f1_threshold(y[val], val_score), names)
