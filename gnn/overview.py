"""What the model page shows: the champion and the challenger (version, kind, when trained,
test figures beside the other models of the same evaluation, feature schema), and how the
scores written on applications are distributed month by month, with drift.

Drift is the population stability index of each month's score histogram (ten equal bins
on [0, 1]) against the first month's: under 0.1 stable, 0.1-0.25 moderate, over 0.25 a
shift worth a look. It reads ``meta.json`` only: no weights are loaded, and torch is
imported only when a model is looked up (the API imports this module at start).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Hashable
from typing import Any

from pydantic import BaseModel

from fraudgraph.settings import Settings
from graph.runner import Query, QueryRunner
from graph.schema import Label

BINS = 10
#: Keeps the logarithm finite when a bin is empty in one month.
EPSILON = 1e-4
FIGURES = ("roc_auc", "average_precision", "recall_at_1pct")

# Months as 'YYYY-MM' from the submission time; scores binned on the server.
DISTRIBUTION = Query(
    "gnn.overview.distribution",
    f"""
    MATCH (a:{Label.APPLICATION.value}) WHERE a.gnn_score IS NOT NULL
    WITH substring(toString(a.submitted_at), 0, 7) AS period, a.gnn_score AS s, a.tier AS tier
    WITH period, s, tier,
         CASE WHEN s >= 1.0 THEN {BINS - 1} WHEN s < 0 THEN 0
              ELSE toInteger(floor(s * {BINS})) END AS bin
    WITH period, count(*) AS n, avg(s) AS mean, percentileCont(s, 0.5) AS p50,
         percentileCont(s, 0.9) AS p90,
         sum(CASE WHEN tier = 'B' THEN 1 ELSE 0 END) AS tier_b,
         sum(CASE WHEN tier = 'C' THEN 1 ELSE 0 END) AS tier_c, collect(bin) AS bins
    RETURN period, n, mean, p50, p90, tier_b, tier_c,
           [b IN range(0, {BINS - 1}) | size([x IN bins WHERE x = b])] AS histogram
    ORDER BY period
    """,
)


class Figures(BaseModel):
    roc_auc: float | None = None
    average_precision: float | None = None
    recall_at_1pct: float | None = None


class ComparedModel(Figures):
    model: str


class ModelCard(BaseModel):
    version: str
    kind: str
    trained_at: str
    metrics: Figures
    comparison: list[ComparedModel]
    feature_schema: list[str]


class PeriodScores(BaseModel):
    period: str
    applications: int
    mean: float
    p50: float
    p90: float
    share_tier_b: float
    share_tier_c: float


class Drift(BaseModel):
    period: str
    psi: float


class ModelOverview(BaseModel):
    champion: ModelCard
    challenger: ModelCard | None
    score_distribution: list[PeriodScores]
    drift: list[Drift]


class NoModel(LookupError):
    """No model is registered yet."""


def _figures(split: dict[str, Any] | None) -> dict[str, float | None]:
    split = split or {}
    return {name: split.get(name) for name in FIGURES}


def card(meta: dict[str, Any]) -> ModelCard:
    """A registered model (its ``meta.json``) as the page shows it: test figures of its own
    kind, beside every model of the evaluation it came from."""
    kind = str(meta.get("kind") or "gnn")
    models: dict[str, Any] = (meta.get("metrics") or {}).get("models", {})
    own = models.get(kind, {})
    features = list(meta.get("feature_names") or meta["spec"]["app_features"])
    return ModelCard(
        version=meta["version"], kind=kind, trained_at=meta["created_at"],
        metrics=Figures(**_figures(own.get("test"))),
        comparison=[ComparedModel(model=name, **_figures(fig.get("test")))
                    for name, fig in sorted(models.items())],
        feature_schema=features)


def _meta(settings: Settings, role: str) -> dict[str, Any] | None:
    from gnn import registry

    root = registry.model_dir(settings)
    version = registry.role_version(root, role)  # type: ignore[arg-type]
    if version is None or not (root / version / "meta.json").is_file():
        return None
    return dict(json.loads((root / version / "meta.json").read_text(encoding="utf-8")))


def psi(reference: list[int], current: list[int]) -> float:
    """Population stability index of two histograms over the same bins."""
    ref_total, cur_total = sum(reference) or 1, sum(current) or 1
    value = 0.0
    for r, c in zip(reference, current, strict=True):
        p, q = max(r / ref_total, EPSILON), max(c / cur_total, EPSILON)
        value += (q - p) * math.log(q / p)
    return value


def overview(runner: QueryRunner, settings: Settings,
             cache: Callable[[Hashable, Callable[[], list[dict[str, Any]]]],
                             list[dict[str, Any]]] | None = None) -> ModelOverview:
    """The champion, the challenger and the monthly score distribution; raises ``NoModel``.

    The distribution reads every scored application, so a caller may keep it:
    ``cache(key, compute)`` (the key names the champion)."""
    champion = _meta(settings, "champion")
    if champion is None:
        raise NoModel("no champion model is registered; run `fraudgraph train` first")
    challenger = _meta(settings, "challenger")

    def compute() -> list[dict[str, Any]]:
        return runner.read(DISTRIBUTION)

    key = ("score_distribution", champion["version"])
    rows = cache(key, compute) if cache else compute()
    periods = [PeriodScores(period=r["period"], applications=r["n"], mean=r["mean"],
                            p50=r["p50"], p90=r["p90"], share_tier_b=r["tier_b"] / r["n"],
                            share_tier_c=r["tier_c"] / r["n"]) for r in rows]
    reference = rows[0]["histogram"] if rows else []
    drift = [Drift(period=r["period"], psi=round(psi(reference, r["histogram"]), 4))
             for r in rows]
    return ModelOverview(champion=card(champion),
                         challenger=card(challenger) if challenger else None,
                         score_distribution=periods, drift=drift)
