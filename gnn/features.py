"""Node features, as pure functions of tables, and the feature schema saved with a model.

Application features are the application's own declarations (amounts, ratios, term,
income, product, price against the vehicle model's usual price). Every other node type
(identifiers, dealers, agents) gets the same three structural features: how many
applications use it (log degree), over how many days (log span) and through how many
dealers (dealer mix). Degree lets the model discount honest hubs; span and dealer mix
separate a family's shared phone from a ring's device used at many dealers in a week.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from gnn.ring_features import RING_FEATURES
from ingest.contract import PRODUCTS

SECONDS_PER_DAY = 86_400.0
#: Local hours (Asia/Shanghai) counted as night-time submission.
NIGHT_HOURS = frozenset({0, 1, 2, 3, 4, 5, 23})

NODE_FEATURES: tuple[str, ...] = ("log_degree", "log_span_days", "dealer_mix")


class FeatureSpec(BaseModel):
    """What a model's inputs are: names, portfolio statistics and scaling per node type.

    Saved with every model; a model refuses a graph whose spec ``fingerprint`` differs.
    """

    app_type: str
    app_features: list[str]
    node_features: list[str]
    node_types: list[str]
    edge_types: list[tuple[str, str, str]]
    #: Rel name of each optional application link, for the ``has_<rel>`` flags.
    link_rels: list[str]
    #: Median vehicle price per vehicle model, over the whole portfolio (no labels used).
    model_price_median: dict[str, float]
    mean: dict[str, list[float]]
    std: dict[str, list[float]]

    @property
    def has_ring_features(self) -> bool:
        """Whether the application features end with ``RING_FEATURES``."""
        return self.app_features[-len(RING_FEATURES):] == list(RING_FEATURES)

    def fingerprint(self) -> str:
        """Hash of the input layout (names, types, edge types), not of the statistics."""
        layout = [self.app_type, self.app_features, self.node_features, self.node_types,
                  [list(e) for e in self.edge_types]]
        return hashlib.sha256(json.dumps(layout).encode()).hexdigest()[:16]

    def scale(self, node_type: str, values: np.ndarray) -> np.ndarray:
        mean = np.asarray(self.mean[node_type], dtype=np.float32)
        std = np.asarray(self.std[node_type], dtype=np.float32)
        return ((values - mean) / std).astype(np.float32)


def app_feature_names(link_rels: list[str], rings: bool = False) -> list[str]:
    """The application's own feature names (then the ring features, with ``rings``)."""
    ring = list(RING_FEATURES) if rings else []
    return ["log_loan", "log_price", "log_down", "log_income", "loan_to_value", "down_share",
            "instalment_to_income", "term", "log_price_vs_model", "price_missing",
            "income_missing", "night_submission",
            *(f"product_{p}" for p in PRODUCTS), *(f"has_{r.lower()}" for r in link_rels),
            *ring]


def model_price_medians(apps: pd.DataFrame) -> dict[str, float]:
    """Median declared price per vehicle model (the "usual price" of that model)."""
    known = apps.dropna(subset=["vehicle_model", "vehicle_price"])
    return {str(k): float(v) for k, v in known.groupby("vehicle_model")["vehicle_price"]
            .median().items()}


def _float(value: Any) -> float:
    try:
        return float(value) if value is not None else np.nan
    except (TypeError, ValueError):
        return np.nan


def _floats(values: Any) -> np.ndarray:
    """A float array from a column or list; None and unparseable values become NaN."""
    if isinstance(values, list):  # one application's neighbourhood: no pandas overhead
        return np.array([_float(v) for v in values], dtype=float)
    column = pd.Series(np.asarray(values, dtype=object))
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)


def application_features(apps: Mapping[str, Any], links: Mapping[str, Any],
                         link_rels: list[str], medians: dict[str, float]) -> np.ndarray:
    """Own-feature matrix, one row per application.

    ``apps`` (a DataFrame, or a dict of equal-length lists when scoring one application):
    loan_amount, vehicle_price, down_payment, monthly_income, term_months, product,
    vehicle_model, ts (epoch seconds). ``links``: one boolean column per rel in
    ``link_rels`` (does the application have that link).
    """
    loan = _floats(apps["loan_amount"])
    price = _floats(apps["vehicle_price"])
    down = np.nan_to_num(_floats(apps["down_payment"]), nan=0.0)
    income = _floats(apps["monthly_income"])
    term = np.nan_to_num(_floats(apps["term_months"]), nan=36.0)
    models = np.asarray(apps["vehicle_model"], dtype=object)
    usual = np.array([medians.get(m, np.nan) if isinstance(m, str) else np.nan
                      for m in models], dtype=float)
    products = np.asarray(apps["product"], dtype=object)
    ts = _floats(apps["ts"])
    price_ok = np.isfinite(price) & (price > 0)
    income_ok = np.isfinite(income) & (income > 0)
    usual_ok = np.isfinite(usual) & (usual > 0)
    safe_price = np.where(price_ok, price, 1.0)
    safe_income = np.where(income_ok, income, 1.0)
    hour = ((np.nan_to_num(ts) / 3600.0 + 8.0) % 24).astype(int)
    columns = [
        np.log1p(loan),
        np.where(price_ok, np.log1p(safe_price), 0.0),
        np.log1p(down),
        np.where(income_ok, np.log1p(safe_income), 0.0),
        np.where(price_ok, np.clip(loan / safe_price, 0, 3), 0.0),
        np.where(price_ok, np.clip(down / safe_price, 0, 3), 0.0),
        np.where(income_ok, np.clip(loan / np.maximum(term, 1) / safe_income, 0, 5), 0.0),
        term / 60.0,
        np.where(price_ok & usual_ok, np.log(safe_price / np.where(usual_ok, usual, 1.0)), 0.0),
        (~price_ok).astype(float),
        (~income_ok).astype(float),
        np.isin(hour, list(NIGHT_HOURS)).astype(float),
        *((products == p).astype(float) for p in PRODUCTS),
        *(np.asarray(links[r], dtype=float) for r in link_rels),
    ]
    return np.stack(columns, axis=1).astype(np.float32)


def node_features(app_idx: np.ndarray, node_idx: np.ndarray, num_nodes: int,
                  app_ts: np.ndarray, app_dealer: np.ndarray) -> np.ndarray:
    """Structural features of one node type from its (application, node) links.

    ``app_dealer`` holds an integer dealer code per application. A node linked to the
    same application twice (e.g. the same phone as applicant and contact) counts once.
    """
    frame = pd.DataFrame({"app": app_idx, "node": node_idx}).drop_duplicates()
    frame["ts"] = app_ts[frame["app"].to_numpy()]
    frame["dealer"] = app_dealer[frame["app"].to_numpy()]
    grouped = frame.groupby("node")
    degree = np.zeros(num_nodes)
    span = np.zeros(num_nodes)
    dealers = np.zeros(num_nodes)
    idx = grouped.size().index.to_numpy()
    degree[idx] = grouped.size().to_numpy()
    span[idx] = (grouped["ts"].max() - grouped["ts"].min()).to_numpy() / SECONDS_PER_DAY
    dealers[idx] = grouped["dealer"].nunique().to_numpy()
    return node_feature_rows(degree, span, dealers)


def node_feature_rows(degree: np.ndarray, span_days: np.ndarray,
                      distinct_dealers: np.ndarray) -> np.ndarray:
    """The structural feature rows from degree, span in days and distinct dealers."""
    degree = np.asarray(degree, dtype=float)
    mix = np.where(degree > 0, np.asarray(distinct_dealers, dtype=float) / np.maximum(degree, 1),
                   0.0)
    return np.stack([np.log1p(degree), np.log1p(np.maximum(span_days, 0)), mix],
                    axis=1).astype(np.float32)


def standardise(values: np.ndarray) -> tuple[list[float], list[float]]:
    """Column means and standard deviations (1 where a column is constant)."""
    if len(values) == 0:
        width = values.shape[1] if values.ndim == 2 else 0
        return [0.0] * width, [1.0] * width
    mean = values.mean(axis=0)
    std = values.std(axis=0)
    std = np.where(std > 1e-6, std, 1.0)
    return mean.astype(float).tolist(), std.astype(float).tolist()
