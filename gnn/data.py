"""The portfolio as a PyG ``HeteroData``, read from Neo4j, with a time split.

Node types are the ``Label`` values of applications, every identifier kind, dealers and
sales agents; edge types are the relationship types from applications (plus ``rev_``
reverse edges so messages flow both ways). Installments are left out on purpose: they
are post-loan behaviour (first-payment default *is* how much fraud gets labelled), not
something known when an application is scored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import HeteroData

from gnn.features import (
    NODE_FEATURES,
    FeatureSpec,
    app_feature_names,
    application_features,
    model_price_medians,
    node_features,
    standardise,
)
from gnn.ring_features import has_detection_run, portfolio_ring_features
from graph.runner import Query, QueryRunner
from graph.schema import NODE_KEYS, ROW_RELS, Label, Rel

log = logging.getLogger(__name__)

APP = Label.APPLICATION.value
#: Every relationship from an application that becomes an edge type, with its end label:
#: the links of its own row, whose kinds it also stores (``graph.schema.LINK_KINDS``).
GRAPH_RELS: dict[Rel, Label] = ROW_RELS
#: Dispositions (from the review lifecycle) that make an application a negative example:
#: a legitimate relationship teaches the model which shared identifiers are benign.
NEGATIVE_DISPOSITIONS = frozenset({"legitimate_relationship", "false_positive"})
#: Dispositions starting with this are positives (``confirmed_fraud_<kind>``).
POSITIVE_DISPOSITION_PREFIX = "confirmed_fraud"

READ_APPLICATIONS = Query(
    "gnn.read_applications",
    f"""
    MATCH (a:{APP})
    RETURN a.application_id AS application_id, a.submitted_at.epochSeconds AS ts,
           a.dealer_id AS dealer_id, a.product AS product, a.loan_amount AS loan_amount,
           a.down_payment AS down_payment, a.vehicle_price AS vehicle_price,
           a.vehicle_model AS vehicle_model, a.term_months AS term_months,
           a.monthly_income AS monthly_income, a.label AS label,
           a[$disposition_key] AS disposition,
           CASE WHEN a.labeled_at IS NULL THEN null
                ELSE datetime(a.labeled_at).epochSeconds END AS labeled_ts
    ORDER BY a.application_id
    """,
)


def _read_links(rel: Rel, label: Label) -> Query:
    return Query(
        f"gnn.read_links_{rel.value.lower()}",
        f"MATCH (a:{APP})-[:{rel.value}]->(n:{label.value}) "
        f"RETURN a.application_id AS app, n.{NODE_KEYS[label]} AS node",
    )


READ_LINKS: dict[Rel, Query] = {rel: _read_links(rel, label) for rel, label in GRAPH_RELS.items()}


def edge_types() -> list[tuple[str, str, str]]:
    """Forward and reverse edge types, in a fixed order."""
    out = []
    for rel, label in GRAPH_RELS.items():
        out.append((APP, rel.value, label.value))
        out.append((label.value, f"rev_{rel.value}", APP))
    return out


def label_targets(apps: pd.DataFrame) -> np.ndarray:
    """1 fraud, 0 legit (or a benign disposition), -1 unknown; dispositions win."""
    y = np.full(len(apps), -1, dtype=np.int64)
    label = apps["label"].fillna("").to_numpy(dtype=object)
    disposition = apps["disposition"].fillna("").astype(str).to_numpy(dtype=object)
    y[label == "fraud"] = 1
    y[label == "legit"] = 0
    y[np.isin(disposition, list(NEGATIVE_DISPOSITIONS))] = 0
    y[np.char.startswith(disposition.astype(str), POSITIVE_DISPOSITION_PREFIX)] = 1
    return y


@dataclass(frozen=True)
class TimeSplit:
    """Boolean masks over applications, and the two cut-off times (epoch seconds)."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    val_from: float
    test_from: float


def time_split(ts: np.ndarray, labeled_ts: np.ndarray, y: np.ndarray,
               val_share: float = 0.2, test_share: float = 0.2) -> TimeSplit:
    """Train on older labels, validate on the next period, test on the newest.

    Cut-offs are quantiles of the labelled applications' submission times. A train
    example must also have been *labelled* before the validation cut-off (a label that
    arrived later was not known when that model would have been trained); such examples
    are dropped, never moved into validation or test.
    """
    labelled = y >= 0
    times = ts[labelled]
    if len(times) == 0:
        raise ValueError("no labelled applications")
    val_from = float(np.quantile(times, 1 - val_share - test_share))
    test_from = float(np.quantile(times, 1 - test_share))
    known = np.where(np.isnan(labeled_ts), ts, labeled_ts)
    train = labelled & (ts < val_from) & (known < val_from)
    val = labelled & (ts >= val_from) & (ts < test_from)
    test = labelled & (ts >= test_from)
    return TimeSplit(train, val, test, val_from, test_from)


@dataclass
class PortfolioGraph:
    """The graph, its ids and raw tables (for baselines and scoring)."""

    data: HeteroData
    spec: FeatureSpec
    apps: pd.DataFrame  # one row per application node, in node order
    own: np.ndarray  # unscaled own features, aligned with ``apps``
    #: (application index, node index) arrays per forward edge type's rel.
    links: dict[str, tuple[np.ndarray, np.ndarray]]
    node_keys: dict[str, np.ndarray]  # node index -> key, per non-application type
    split: TimeSplit | None  # None when no application is labelled

    @property
    def y(self) -> np.ndarray:
        return self.data[APP].y.numpy()


def read_portfolio(runner: QueryRunner) -> tuple[pd.DataFrame, dict[Rel, pd.DataFrame]]:
    """Applications and their links, as tables, streamed from Neo4j."""
    apps = pd.DataFrame(list(runner.stream(READ_APPLICATIONS, disposition_key="disposition")))
    links = {
        rel: pd.DataFrame(list(runner.stream(query)), columns=["app", "node"])
        for rel, query in READ_LINKS.items()
    }
    log.info("read %d applications, %d links", len(apps), sum(len(v) for v in links.values()))
    return apps, links


def build_graph(apps: pd.DataFrame, links: dict[Rel, pd.DataFrame],
                spec: FeatureSpec | None = None, val_share: float = 0.2,
                test_share: float = 0.2, rings: np.ndarray | None = None) -> PortfolioGraph:
    """``HeteroData`` with features, ``y`` and time-split masks on applications.

    With ``spec`` given (a saved model's), its portfolio statistics and scaling are reused
    so the features mean what they meant in training; otherwise they are computed here.
    ``rings``: ring features per application (``gnn.ring_features``), appended to the
    application's own features; required when ``spec`` has them, refused when not.
    """
    if spec is not None and spec.has_ring_features != (rings is not None):
        raise ValueError("ring features must be given exactly when the spec has them")
    if apps.empty:
        raise ValueError("the graph has no applications")
    apps = apps.reset_index(drop=True).copy()
    apps["ts"] = apps["ts"].astype(float)
    apps["labeled_ts"] = pd.to_numeric(apps["labeled_ts"], errors="coerce").astype(float)
    app_index = pd.Index(apps["application_id"])
    dealer_code = pd.factorize(apps["dealer_id"].fillna(""))[0]
    ts = apps["ts"].to_numpy()
    link_rels = [rel.value for rel in GRAPH_RELS]
    data = HeteroData()
    edges: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    node_keys: dict[str, np.ndarray] = {}
    has = pd.DataFrame(False, index=range(len(apps)), columns=link_rels)
    # Node indices per end label (several rels share the Phone label).
    by_label: dict[Label, list[tuple[Rel, pd.DataFrame]]] = {}
    for rel, label in GRAPH_RELS.items():
        frame = links.get(rel, pd.DataFrame(columns=["app", "node"])).dropna()
        by_label.setdefault(label, []).append((rel, frame))
    for label, frames in by_label.items():
        keys = pd.Index(pd.unique(pd.concat([f["node"] for _, f in frames]).astype(str)))
        node_keys[label.value] = keys.to_numpy()
        all_app, all_node = [], []
        for rel, frame in frames:
            a = app_index.get_indexer(frame["app"])
            n = keys.get_indexer(frame["node"].astype(str))
            keep = a >= 0
            a, n = a[keep].astype(np.int64), n[keep].astype(np.int64)
            edges[rel.value] = (a, n)
            has.loc[a, rel.value] = True
            all_app.append(a)
            all_node.append(n)
            data[APP, rel.value, label.value].edge_index = torch.from_numpy(np.stack([a, n]))
            data[label.value, f"rev_{rel.value}", APP].edge_index = torch.from_numpy(
                np.stack([n, a]))
        feats = node_features(np.concatenate(all_app), np.concatenate(all_node), len(keys),
                              ts, dealer_code)
        data[label.value].raw = feats
    medians = spec.model_price_median if spec else model_price_medians(apps)
    own = application_features(apps, has, link_rels, medians)
    if rings is not None:
        own = np.concatenate([own, rings.astype(np.float32)], axis=1)
    if spec is None:
        mean, std = {APP: standardise(own)[0]}, {APP: standardise(own)[1]}
        for label in by_label:
            m, s = standardise(data[label.value].raw)
            mean[label.value], std[label.value] = m, s
        spec = FeatureSpec(
            app_type=APP, app_features=app_feature_names(link_rels, rings is not None),
            node_features=list(NODE_FEATURES), node_types=[APP, *(lb.value for lb in by_label)],
            edge_types=edge_types(), link_rels=link_rels, model_price_median=medians,
            mean=mean, std=std)
    data[APP].x = torch.from_numpy(spec.scale(APP, own))
    for label in by_label:
        data[label.value].x = torch.from_numpy(spec.scale(label.value, data[label.value].raw))
        del data[label.value].raw
    y = label_targets(apps)
    split = time_split(ts, apps["labeled_ts"].to_numpy(), y, val_share, test_share) \
        if (y >= 0).any() else None
    data[APP].y = torch.from_numpy(np.clip(y, 0, 1))
    data[APP].labelled = torch.from_numpy(y >= 0)
    if split is not None:
        data[APP].train_mask = torch.from_numpy(split.train)
        data[APP].val_mask = torch.from_numpy(split.val)
        data[APP].test_mask = torch.from_numpy(split.test)
    log.info("graph: %s", {t: data[t].num_nodes for t in data.node_types})
    return PortfolioGraph(data=data, spec=spec, apps=apps, own=own, links=edges,
                          node_keys=node_keys, split=split)


def load_graph(runner: QueryRunner, spec: FeatureSpec | None = None,
               val_share: float = 0.2, test_share: float = 0.2,
               rings: bool | None = None) -> PortfolioGraph:
    """Read the portfolio from Neo4j and build its graph.

    Ring features (``gnn.ring_features``): as ``spec`` says when it is given; otherwise
    ``rings``, and by default whenever a complete ring detection run is stored.
    """
    apps, links = read_portfolio(runner)
    if spec is not None:
        rings = spec.has_ring_features
    elif rings is None:
        rings = has_detection_run(runner)
    extra = portfolio_ring_features(runner, apps) if rings and not apps.empty else None
    return build_graph(apps, links, spec, val_share, test_share, rings=extra)
