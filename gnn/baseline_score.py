"""Scoring one application with a shipped LightGBM baseline, read from Neo4j, with reasons.

When neither GNN beats a baseline, the better baseline is the champion, so it must score
a new application the way the GNN does: from Neo4j, one query, with reasons. The query
computes for one application exactly what ``gnn.baselines.neighbour_aggregates``
computes for the whole portfolio (every label known before the application was
submitted counts; a test checks the two agree). Reasons are LightGBM's per-feature
contributions (``pred_contrib``, SHAP values in log-odds): the largest positive ones
become reason codes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gnn.baselines import GBT_OWN, HOP2_MAX_DEGREE, SHARED_RELS
from gnn.data import APP, GRAPH_RELS, NEGATIVE_DISPOSITIONS, POSITIVE_DISPOSITION_PREFIX
from gnn.features import application_features
from gnn.reasons import feature_reason
from gnn.registry import LoadedModel
from gnn.ring_features import ring_row
from graph.runner import Query, QueryRunner

_ANY = "|".join(rel.value for rel in GRAPH_RELS)
_SHARED = "|".join(SHARED_RELS)
_APP_FIELDS = ("loan_amount", "down_payment", "vehicle_price", "vehicle_model",
               "term_months", "monthly_income", "product")
# 1 fraud, 0 legit, -1 unknown, with dispositions winning as in gnn.data.label_targets.
_Y = ("CASE WHEN coalesce({v}[$disposition_key], '') STARTS WITH $positive THEN 1 "
      "WHEN {v}[$disposition_key] IN $negative THEN 0 WHEN {v}.label = 'fraud' THEN 1 "
      "WHEN {v}.label = 'legit' THEN 0 ELSE -1 END")
_KNOWN = ("coalesce(datetime({v}.labeled_at).epochSeconds, "
          "{v}.submitted_at.epochSeconds)")

# Relationship types are schema constants (graph.schema), written into the pattern so
# that COUNT { (i)<-[:T1|T2]-() } reads Neo4j's degree store instead of expanding hubs.
READ_GBT_FEATURES = Query(
    "gnn.read_gbt_features",
    f"""
    MATCH (a:{APP} {{application_id: $application_id}})
    WITH a, a.submitted_at.epochSeconds AS t
    CALL (a, t) {{
      OPTIONAL MATCH (a)-[r:{_ANY}]->(i)
      WITH r, i WHERE i IS NOT NULL
      CALL (i, t) {{
        MATCH (i)<-[:{_ANY}]-(b:{APP})
        WITH b, {_Y.format(v="b")} AS y, {_KNOWN.format(v="b")} AS known
        RETURN count(*) AS degree, sum(coalesce(b.loan_amount, 0.0)) AS loan_sum,
               sum(CASE WHEN y >= 0 AND known < t THEN 1 ELSE 0 END) AS labelled,
               sum(CASE WHEN y = 1 AND known < t THEN 1 ELSE 0 END) AS fraud
      }}
      RETURN collect({{rel: type(r), degree: degree, loan_sum: loan_sum,
                       labelled: labelled, fraud: fraud}}) AS links
    }}
    CALL (a, t) {{
      OPTIONAL MATCH (a)-[r:{_SHARED}]->(i)
      WHERE COUNT {{ (i)<-[:{_ANY}]-() }} <= $cap
      OPTIONAL MATCH (i)<-[r1:{_ANY}]-(b:{APP})
      WITH r, r1, b, b.submitted_at.epochSeconds AS bt WHERE b IS NOT NULL
      CALL (b, bt) {{
        OPTIONAL MATCH (b)-[:{_SHARED}]->(j)
        WITH j, COUNT {{ (j)<-[:{_ANY}]-() }} AS deg WHERE j IS NOT NULL
        CALL (j, deg, bt) {{
          OPTIONAL MATCH (j)<-[:{_ANY}]-(c:{APP}) WHERE deg <= $cap
            AND {_Y.format(v="c")} = 1 AND {_KNOWN.format(v="c")} < bt
          RETURN count(c) AS f
        }}
        RETURN sum(deg - 1) AS hop1_count, sum(f) AS hop1_fraud
      }}
      RETURN sum(CASE WHEN r1 <> r THEN hop1_count ELSE 0 END) AS hop2_count,
             sum(CASE WHEN bt < t THEN hop1_fraud ELSE 0 END) AS hop2_fraud
    }}
    RETURN a {{.loan_amount, .down_payment, .vehicle_price, .vehicle_model, .term_months,
               .monthly_income, .product, ts: t}} AS app, links,
           coalesce(hop2_count, 0) AS hop2_count, coalesce(hop2_fraud, 0) AS hop2_fraud
    """,
)


def read_gbt_row(runner: QueryRunner, application_id: str) -> dict[str, Any] | None:
    rows = runner.read(READ_GBT_FEATURES, application_id=application_id,
                       cap=HOP2_MAX_DEGREE, disposition_key="disposition",
                       positive=POSITIVE_DISPOSITION_PREFIX,
                       negative=sorted(NEGATIVE_DISPOSITIONS))
    return rows[0] if rows else None


def _neighbour_row(row: dict[str, Any]) -> list[float]:
    """``neighbour_aggregates``' columns for one application, from the query's row."""
    by_rel = {link["rel"]: link for link in row["links"]}
    loan = float(row["app"].get("loan_amount") or 0.0)
    columns: list[float] = []
    hop1_count = hop1_fraud = hop1_loan = 0.0
    for rel in GRAPH_RELS:
        link = by_rel.get(rel.value)
        deg, fraud, known = ((link["degree"], link["fraud"], link["labelled"]) if link
                             else (0, 0, 0))
        columns += [float(np.log1p(deg)), fraud, known, fraud / (known + 1)]
    for link in row["links"]:
        if link["rel"] in SHARED_RELS:
            hop1_count += link["degree"] - 1
            hop1_fraud += link["fraud"]
            hop1_loan += link["loan_sum"] - loan
    columns += [float(np.log1p(hop1_count)), hop1_fraud, hop1_loan / max(hop1_count, 1),
                float(np.log1p(max(row["hop2_count"], 0))), row["hop2_fraud"]]
    return columns


def gbt_row(row: dict[str, Any], loaded: LoadedModel,
            ring: dict[str, Any] | None = None) -> np.ndarray:
    """The baseline's input row (own features with the ring features when the model has
    them, ``ring`` being the application's ring; plus neighbour aggregates)."""
    spec = loaded.spec
    app = row["app"]
    columns = {k: [app.get(k)] for k in (*_APP_FIELDS, "ts")}
    rels = {link["rel"] for link in row["links"]}
    own = application_features(columns, {r: [r in rels] for r in spec.link_rels},
                               spec.link_rels, spec.model_price_median)[0]
    if spec.has_ring_features:
        own = np.concatenate([own, np.asarray(ring_row(ring), dtype=np.float32)])
    if loaded.kind == GBT_OWN:
        return own[None, :]
    return np.concatenate([own, np.asarray(_neighbour_row(row), dtype=np.float32)])[None, :]


_PER_REL_PHRASES = {
    "log_degree": "applications linked through the {what}",
    "train_fraud": "applications labelled fraud sharing the {what}",
    "train_labelled": "labelled applications sharing the {what}",
    "train_fraud_share": "share labelled fraud among applications sharing the {what}",
}
_PHRASES = {
    **{f"{rel.value.lower()}_{stat}": phrase.format(
        what=f"{rel.value.lower().replace('_', ' ')} ({label.value})")
       for rel, label in GRAPH_RELS.items() for stat, phrase in _PER_REL_PHRASES.items()},
    "hop1_log_count": "applications sharing an identifier",
    "hop1_train_fraud": "applications labelled fraud sharing an identifier",
    "hop1_mean_loan": "mean loan of the applications sharing an identifier",
    "hop2_log_count": "applications two links away",
    "hop2_train_fraud": "fraud labels two links away",
}


def _reason(name: str, raw: float, scaled: float | None) -> tuple[str, str]:
    """Reason code and text of one input column (``scaled``: own features only)."""
    if scaled is not None:
        return feature_reason(name, scaled)
    shown = float(np.expm1(raw)) if "log_" in name else raw
    return f"NB_{name.upper()}", f"{_PHRASES[name]}: {shown:.3g}"


def explain_gbt(loaded: LoadedModel, x: np.ndarray, top: int
                ) -> tuple[float, list[str], list[str]]:
    """Probability of one row and the columns that pushed it up most (``pred_contrib``)."""
    booster = loaded.model
    score = float(booster.predict(x)[0])  # type: ignore[union-attr]
    contrib = booster.predict(x, pred_contrib=True)[0][:-1]  # type: ignore[union-attr]
    own = loaded.spec.app_features
    scaled = loaded.spec.scale(APP, x[:, :len(own)])[0]
    pushes = []
    for i in np.argsort(-contrib):
        if contrib[i] <= 0 or len(pushes) == top:
            break
        name = loaded.meta.feature_names[i]
        pushes.append(_reason(name, float(x[0, i]), float(scaled[i]) if i < len(own)
                              else None))
    return score, [p[1] for p in pushes], [p[0] for p in pushes]
