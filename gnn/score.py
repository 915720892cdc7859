"""Scoring: one application from its neighbourhood in Neo4j, with reasons; and the
whole portfolio in batches.

``score_application`` reads the application, its identifiers (with their degree, time
span and dealer count) and up to ``fanout`` other applications per identifier in one
query, builds the same two-hop subgraph the training sampler draws, and runs the model
once forward and once backward. Reasons come from gradient x activation: an
identifier's layer-1 representation times the gradient of the fraud logit says how much
that link (and the applications behind it) pushed the score up; the application's own
features get gradient x input. The biggest positive pushes become up to four reason
codes, in the spirit of a lender's "principal reasons".
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel
from torch_geometric.data import HeteroData

from gnn.data import APP, GRAPH_RELS, load_graph
from gnn.features import SECONDS_PER_DAY, application_features, node_feature_rows
from gnn.registry import LoadedModel
from gnn.train import predict
from graph.runner import Query, QueryRunner

log = logging.getLogger(__name__)

MAX_REASONS = 4
_APP_FIELDS = ("loan_amount", "down_payment", "vehicle_price", "vehicle_model",
               "term_months", "monthly_income", "product")
_REL_TO_LABEL = {rel.value: label.value for rel, label in GRAPH_RELS.items()}


class ShadowScore(BaseModel):
    model_version: str
    score: float


class GnnScore(BaseModel):
    """A model's fraud score for one application, with the reasons a reviewer reads."""

    application_id: str
    score: float
    model_version: str
    threshold: float
    flagged: bool
    reasons: list[str]
    reason_codes: list[str]
    shadow: ShadowScore | None = None


class ApplicationNotFound(LookupError):
    """No application with that id in the graph."""


READ_NEIGHBOURHOOD = Query(
    "gnn.read_neighbourhood",
    f"""
    MATCH (a:{APP} {{application_id: $application_id}})
    CALL (a) {{
      OPTIONAL MATCH (a)-[r]->(i) WHERE type(r) IN $rels
      WITH r, i WHERE i IS NOT NULL
      CALL (i) {{
        MATCH (i)<--(b:{APP})
        WITH DISTINCT b
        RETURN count(b) AS degree, min(b.submitted_at).epochSeconds AS first_ts,
               max(b.submitted_at).epochSeconds AS last_ts,
               count(DISTINCT b.dealer_id) AS dealers
      }}
      CALL (a, i) {{
        MATCH (i)<-[r2]-(b:{APP}) WHERE b <> a
        WITH b, r2 LIMIT $fanout
        RETURN collect({{rel: type(r2), app: b {{
          .application_id, .loan_amount, .down_payment, .vehicle_price, .vehicle_model,
          .term_months, .monthly_income, .product, .label,
          ts: b.submitted_at.epochSeconds,
          links: [(b)-[x]->() WHERE type(x) IN $rels | type(x)]}}}}) AS neighbours
      }}
      RETURN collect({{rel: type(r), node: elementId(i), degree: degree,
                       first_ts: first_ts, last_ts: last_ts, dealers: dealers,
                       neighbours: neighbours}}) AS links
    }}
    RETURN a {{.application_id, .loan_amount, .down_payment, .vehicle_price,
               .vehicle_model, .term_months, .monthly_income, .product,
               ts: a.submitted_at.epochSeconds}} AS app, links
    """,
)


def read_neighbourhood(runner: QueryRunner, application_id: str,
                       fanout: int) -> dict[str, Any]:
    rows = runner.read(READ_NEIGHBOURHOOD, application_id=application_id,
                       rels=list(_REL_TO_LABEL), fanout=fanout)
    if not rows:
        raise ApplicationNotFound(f"no application {application_id!r} in the graph")
    return rows[0]


def _own_rows(apps: list[dict[str, Any]], link_sets: list[set[str]],
              loaded: LoadedModel) -> np.ndarray:
    spec = loaded.spec
    columns = {k: [app.get(k) for app in apps] for k in (*_APP_FIELDS, "ts")}
    links = {r: [r in s for s in link_sets] for r in spec.link_rels}
    own = application_features(columns, links, spec.link_rels, spec.model_price_median)
    return spec.scale(APP, own)


def neighbourhood_graph(hood: dict[str, Any], loaded: LoadedModel
                        ) -> tuple[HeteroData, list[dict[str, Any]]]:
    """The two-hop subgraph around the application (node 0 of its type).

    Also returns, per identifier node in order, what the reasons need to say about it.
    """
    spec = loaded.spec
    apps: list[dict[str, Any]] = [hood["app"]]
    app_links: list[set[str]] = [{link["rel"] for link in hood["links"]}]
    app_pos = {hood["app"]["application_id"]: 0}
    nodes: dict[str, dict[str, int]] = {t: {} for t in spec.node_types if t != APP}
    feats: dict[str, list[np.ndarray]] = {t: [] for t in nodes}
    edges: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
    info: list[dict[str, Any]] = []
    for link in hood["links"]:
        label = _REL_TO_LABEL[link["rel"]]
        local = nodes[label].get(link["node"])
        if local is None:
            local = nodes[label][link["node"]] = len(nodes[label])
            span = ((link["last_ts"] or 0) - (link["first_ts"] or 0)) / SECONDS_PER_DAY
            feats[label].append(node_feature_rows(np.array([link["degree"]]),
                                                  np.array([span]),
                                                  np.array([link["dealers"]]))[0])
        edges.setdefault((label, f"rev_{link['rel']}", APP), []).append((local, 0))
        edges.setdefault((APP, link["rel"], label), []).append((0, local))
        fraud = 0
        for item in link["neighbours"]:
            other = item["app"]
            pos = app_pos.get(other["application_id"])
            if pos is None:
                pos = app_pos[other["application_id"]] = len(apps)
                apps.append(other)
                app_links.append(set(other["links"]))
            fraud += other.get("label") == "fraud"
            edges.setdefault((APP, item["rel"], label), []).append((pos, local))
        info.append({"rel": link["rel"], "label": label, "local": local,
                     "others": link["degree"] - 1, "fraud": fraud,
                     "sampled": len(link["neighbours"])})
    data = HeteroData()
    data[APP].x = torch.from_numpy(_own_rows(apps, app_links, loaded))
    width = len(spec.node_features)
    for label in nodes:
        rows = np.stack(feats[label]) if feats[label] else np.zeros((0, width), np.float32)
        data[label].x = torch.from_numpy(spec.scale(label, rows))
    for edge_type in spec.edge_types:
        pairs = edges.get(tuple(edge_type), [])  # type: ignore[arg-type]
        data[tuple(edge_type)].edge_index = (torch.tensor(pairs, dtype=torch.long).t()
                                             if pairs else torch.empty(2, 0, dtype=torch.long))
    return data, info


_PHRASES = {
    "log_loan": "loan amount", "log_price": "vehicle price", "log_down": "down payment",
    "log_income": "declared monthly income", "loan_to_value": "loan-to-value",
    "down_share": "down-payment share", "instalment_to_income": "instalment-to-income",
    "term": "term", "log_price_vs_model": "price against the model's usual price",
    "price_missing": "vehicle price missing", "income_missing": "declared income missing",
    "night_submission": "submitted at night",
}


def _feature_reason(name: str, value: float) -> tuple[str, str]:
    """Reason code and text for one own feature (``value`` is its standardised value)."""
    flag = name.startswith(("product_", "has_")) or name in (
        "price_missing", "income_missing", "night_submission")
    if flag:
        state = "YES" if value > 0 else "NO"
        if name.startswith("product_"):
            phrase = f"product {name.removeprefix('product_')}"
        elif name.startswith("has_"):
            phrase = f"{name.removeprefix('has_').replace('_', ' ')} given"
        else:
            phrase = _PHRASES[name]
        return f"APP_{name.upper()}_{state}", phrase if value > 0 else f"not: {phrase}"
    state = "HIGH" if value > 0 else "LOW"
    return f"APP_{name.upper()}_{state}", f"{_PHRASES.get(name, name)} is {state.lower()}"


def _link_reason(item: dict[str, Any]) -> tuple[str, str]:
    code = f"LINK_{item['rel']}"
    text = (f"{item['rel'].lower().replace('_', ' ')} ({item['label']}) shared with "
            f"{item['others']} other application(s)")
    if item["fraud"]:
        text += f"; {item['fraud']} of the {item['sampled']} read are labelled fraud"
    return code, text


def explain(loaded: LoadedModel, data: HeteroData, info: list[dict[str, Any]]
            ) -> tuple[float, list[str], list[str]]:
    """Score node 0 and name what pushed it up (gradient x activation / input)."""
    model = loaded.model
    if model.training:
        model.eval()
    x_dict = {t: x.clone().requires_grad_(t == APP) for t, x in data.x_dict.items()}
    layers = model.layers(x_dict, data.edge_index_dict)
    hidden = layers[1]
    for h in hidden.values():
        h.retain_grad()
    logit = model.logits(layers)[0]
    logit.backward()
    pushes: list[tuple[float, str, str]] = []
    for item in info:
        h = hidden[item["label"]]
        if h.grad is None or item["others"] <= 0:
            continue  # an unshared identifier is no relationship to report
        weight = float((h.grad[item["local"]] * h[item["local"]]).sum().detach())
        pushes.append((weight, *_link_reason(item)))
    own_grad = x_dict[APP].grad
    if own_grad is not None:
        contrib = (own_grad[0] * x_dict[APP][0]).detach().numpy()
        for name, c, v in zip(loaded.spec.app_features, contrib,
                              x_dict[APP][0].detach().numpy(), strict=True):
            pushes.append((float(c), *_feature_reason(name, float(v))))
    pushes.sort(key=lambda p: -p[0])
    top = [p for p in pushes if p[0] > 0][:MAX_REASONS]
    return float(torch.sigmoid(logit.detach())), [p[2] for p in top], [p[1] for p in top]


def score_application(runner: QueryRunner, application_id: str, model: LoadedModel,
                      fanout: int = 10, shadow: LoadedModel | None = None) -> GnnScore:
    """Score one application from its neighbourhood read from Neo4j, with its reasons.

    ``shadow``, a challenger, scores the same neighbourhood beside it; its score is
    returned for comparison and never changes the champion's.
    """
    hood = read_neighbourhood(runner, application_id, fanout)
    data, info = neighbourhood_graph(hood, model)
    score, reasons, codes = explain(model, data, info)
    shadow_score = None
    if shadow is not None:
        shadow_data, _ = neighbourhood_graph(hood, shadow)
        with torch.no_grad():
            value = torch.sigmoid(shadow.model(shadow_data.x_dict,
                                               shadow_data.edge_index_dict)[0])
        shadow_score = ShadowScore(model_version=shadow.version, score=float(value))
    return GnnScore(application_id=application_id, score=score,
                    model_version=model.version, threshold=model.meta.threshold,
                    flagged=score >= model.meta.threshold, reasons=reasons,
                    reason_codes=codes, shadow=shadow_score)


WRITE_SCORES = Query(
    "gnn.write_scores",
    f"""
    UNWIND $rows AS r
    MATCH (a:{APP} {{application_id: r.id}})
    SET a.gnn_score = r.score, a.gnn_model_version = $version
    """,
)
WRITE_SHADOW_SCORES = Query(
    "gnn.write_shadow_scores",
    f"""
    UNWIND $rows AS r
    MATCH (a:{APP} {{application_id: r.id}})
    SET a.gnn_shadow_score = r.score, a.gnn_shadow_model_version = $version
    """,
)


def _write(runner: QueryRunner, query: Query, ids: list[str], scores: np.ndarray,
           version: str, batch_size: int) -> None:
    for start in range(0, len(ids), batch_size):
        rows = [{"id": i, "score": float(s)} for i, s in
                zip(ids[start:start + batch_size], scores[start:start + batch_size],
                    strict=True)]
        with runner.transaction() as tx:
            tx.run(query, rows=rows, version=version)


def score_portfolio(runner: QueryRunner, model: LoadedModel,
                    shadow: LoadedModel | None = None, batch_size: int = 5000) -> int:
    """Score every application and write ``gnn_score`` and ``gnn_model_version`` (and the
    shadow's ``gnn_shadow_score`` / ``gnn_shadow_model_version``) onto its node."""
    pg = load_graph(runner, spec=model.spec)
    model.check(pg.spec)
    ids = pg.apps["application_id"].astype(str).tolist()
    every = torch.arange(len(ids))
    scores = predict(model.model, pg.data, every, model.meta.config)
    _write(runner, WRITE_SCORES, ids, scores, model.version, batch_size)
    if shadow is not None:
        shadow_pg = load_graph(runner, spec=shadow.spec)
        shadow.check(shadow_pg.spec)
        shadow_scores = predict(shadow.model, shadow_pg.data, every, shadow.meta.config)
        _write(runner, WRITE_SHADOW_SCORES, ids, shadow_scores, shadow.version, batch_size)
    log.info("scored %d applications with %s", len(ids), model.version)
    return len(ids)
