"""Scoring: one application from its neighbourhood in Neo4j, with reasons; and the
whole portfolio in batches.

``score_application`` reads the application, its identifiers (with their degree, time
span and dealer count) and up to ``fanout`` other applications per identifier in one
query, builds the same two-hop subgraph the training sampler draws, and runs the model
once forward and once backward. An identifier shared by more than ``HUB_CAP``
applications (a dealer, a sales agent, a carrier NAT address, a giant employer: on the
1M portfolio up to 40,000) is not scanned on every call: its degree is its live link
count from Neo4j's degree store, its first/last submission and dealer count are read
from the node, where ``write_hub_stats`` (run by ``score_portfolio``) stores them. A
hub without them yet (new since the last batch) is scanned as before.

When the champion is a LightGBM baseline (it beat the GNN), ``score_application`` scores
with it instead (``gnn.baseline_score``): same result type, reasons from its per-feature
contributions. Reasons come from gradient x activation: an
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

from gnn.baseline_score import explain_gbt, gbt_row, read_gbt_row
from gnn.baselines import gbt_features
from gnn.data import APP, GRAPH_RELS, load_graph
from gnn.features import SECONDS_PER_DAY, application_features, node_feature_rows
from gnn.inference import FusedRgcn
from gnn.model import HeteroGnn
from gnn.reasons import MAX_REASONS, feature_reason
from gnn.registry import GNN, LoadedModel
from gnn.train import predict
from graph.runner import Query, QueryRunner

log = logging.getLogger(__name__)

#: Identifiers with more links than this take first/last submission and dealer count
#: from their stored statistics (``write_hub_stats``) instead of a scan.
HUB_CAP = 200
_ANY = "|".join(rel.value for rel in GRAPH_RELS)
_HUB_LABELS = tuple(dict.fromkeys(label.value for label in GRAPH_RELS.values()))
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
    #: What scored it: "gnn", or the baseline that beat it ("gbt_own", "gbt_neighbours").
    model_kind: str = "gnn"
    threshold: float
    flagged: bool
    reasons: list[str]
    reason_codes: list[str]
    shadow: ShadowScore | None = None


class ApplicationNotFound(LookupError):
    """No application with that id in the graph."""


# Relationship types are schema constants written into the patterns so that Neo4j
# expands only those (an application also has installments and ring memberships) and
# COUNT { (i)<-[:T1|T2]-() } reads the degree store instead of walking a hub.
READ_NEIGHBOURHOOD = Query(
    "gnn.read_neighbourhood",
    f"""
    MATCH (a:{APP} {{application_id: $application_id}})
    WITH a, a.submitted_at.epochSeconds AS t
    CALL (a, t) {{
      OPTIONAL MATCH (a)-[r:{_ANY}]->(i)
      WITH r, i WHERE i IS NOT NULL
      WITH r, i, COUNT {{ (i)<-[:{_ANY}]-() }} AS link_count
      WITH r, i, link_count, link_count > $hub_cap AND i.gnn_first_ts IS NOT NULL AS stored
      CALL (i, link_count, stored) {{
        OPTIONAL MATCH (i)<-[:{_ANY}]-(b:{APP}) WHERE NOT stored
        WITH DISTINCT b
        RETURN count(b) AS scanned, min(b.submitted_at).epochSeconds AS first_ts,
               max(b.submitted_at).epochSeconds AS last_ts,
               count(DISTINCT b.dealer_id) AS dealers
      }}
      CALL (a, i) {{
        MATCH (i)<-[r2:{_ANY}]-(b:{APP}) WHERE b <> a
        WITH b, r2 LIMIT $fanout
        RETURN collect({{rel: type(r2), app: b {{
          .application_id, .loan_amount, .down_payment, .vehicle_price, .vehicle_model,
          .term_months, .monthly_income, .product, .label,
          ts: b.submitted_at.epochSeconds,
          links: [(b)-[x:{_ANY}]->() | type(x)]}}}}) AS neighbours
      }}
      RETURN collect({{rel: type(r), node: elementId(i), link_count: link_count,
        stored: stored,
        degree: CASE WHEN stored THEN link_count ELSE scanned END,
        first_ts: CASE WHEN stored THEN i.gnn_first_ts ELSE first_ts END,
        last_ts: CASE WHEN stored THEN CASE WHEN t > i.gnn_last_ts THEN t
                                            ELSE i.gnn_last_ts END ELSE last_ts END,
        dealers: CASE WHEN stored THEN i.gnn_dealers ELSE dealers END,
        neighbours: neighbours}}) AS links
    }}
    RETURN a {{.application_id, .loan_amount, .down_payment, .vehicle_price,
               .vehicle_model, .term_months, .monthly_income, .product, ts: t}} AS app,
           links
    """,
)


def read_neighbourhood(runner: QueryRunner, application_id: str, fanout: int,
                       hub_cap: int = HUB_CAP) -> dict[str, Any]:
    """The application, its identifiers with their statistics, and up to ``fanout``
    other applications per identifier. Identifiers above ``hub_cap`` links use their
    stored statistics when they have them (degree: the live link count; last
    submission: this application's when it is newer)."""
    rows = runner.read(READ_NEIGHBOURHOOD, application_id=application_id,
                       fanout=fanout, hub_cap=hub_cap)
    if not rows:
        raise ApplicationNotFound(f"no application {application_id!r} in the graph")
    return rows[0]


def _hub_stats_query(label: str) -> Query:
    return Query(
        f"gnn.read_hub_stats_{label.lower()}",
        f"""
        MATCH (i:{label}) WHERE COUNT {{ (i)<-[:{_ANY}]-() }} > $hub_cap
        CALL (i) {{
          MATCH (i)<-[:{_ANY}]-(b:{APP})
          WITH DISTINCT b
          RETURN min(b.submitted_at).epochSeconds AS first_ts,
                 max(b.submitted_at).epochSeconds AS last_ts,
                 count(DISTINCT b.dealer_id) AS dealers
        }}
        RETURN elementId(i) AS node, first_ts, last_ts, dealers
        """,
    )


READ_HUB_STATS = {label: _hub_stats_query(label) for label in _HUB_LABELS}
WRITE_HUB_STATS = Query(
    "gnn.write_hub_stats",
    """
    UNWIND $rows AS r
    MATCH (i) WHERE elementId(i) = r.node
    SET i.gnn_first_ts = r.first_ts, i.gnn_last_ts = r.last_ts, i.gnn_dealers = r.dealers
    """,
)


def write_hub_stats(runner: QueryRunner, hub_cap: int = HUB_CAP,
                    batch_size: int = 5000) -> int:
    """Store first/last submission (epoch seconds) and distinct dealers on every
    identifier, dealer and agent with more than ``hub_cap`` links, so that scoring one
    application does not scan them. Returns how many nodes were written."""
    written = 0
    for query in READ_HUB_STATS.values():
        rows = list(runner.stream(query, hub_cap=hub_cap))
        for start in range(0, len(rows), batch_size):
            with runner.transaction() as tx:
                tx.run(WRITE_HUB_STATS, rows=rows[start:start + batch_size])
        written += len(rows)
    log.info("hub statistics written on %d nodes", written)
    return written


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


def _link_reason(item: dict[str, Any]) -> tuple[str, str]:
    code = f"LINK_{item['rel']}"
    text = (f"{item['rel'].lower().replace('_', ' ')} ({item['label']}) shared with "
            f"{item['others']} other application(s)")
    if item["fraud"]:
        text += f"; {item['fraud']} of the {item['sampled']} read are labelled fraud"
    return code, text


def network(loaded: LoadedModel) -> HeteroGnn | FusedRgcn:
    """The GNN to run on one application's subgraph: an R-GCN with its layers fused
    (built once per loaded model), any other layer kind as it is."""
    model = loaded.model
    assert isinstance(model, HeteroGnn)
    if model.training:
        model.eval()
    if model.config.conv != "rgcn":
        return model
    if "fused" not in loaded.cache:
        loaded.cache["fused"] = FusedRgcn(model, [tuple(e) for e in loaded.spec.edge_types])
    return loaded.cache["fused"]


def explain(loaded: LoadedModel, data: HeteroData, info: list[dict[str, Any]]
            ) -> tuple[float, list[str], list[str]]:
    """Score node 0 and name what pushed it up (gradient x activation / input)."""
    net = network(loaded)
    x_dict = {t: x.clone().requires_grad_(t == APP) for t, x in data.x_dict.items()}
    layers = net.layers(x_dict, data.edge_index_dict)
    hidden = layers[1]
    for h in hidden.values():
        h.retain_grad()
    logit = net.logits(layers)[0]
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
            pushes.append((float(c), *feature_reason(name, float(v))))
    pushes.sort(key=lambda p: -p[0])
    top = [p for p in pushes if p[0] > 0][:MAX_REASONS]
    return float(torch.sigmoid(logit.detach())), [p[2] for p in top], [p[1] for p in top]


def _score(runner: QueryRunner, application_id: str, model: LoadedModel, fanout: int,
           hub_cap: int, hoods: dict[str, dict[str, Any]], with_reasons: bool
           ) -> tuple[float, list[str], list[str]]:
    """Score (and reasons) with a GNN or a LightGBM baseline, whichever ``model`` is."""
    if model.kind != GNN:
        row = read_gbt_row(runner, application_id)
        if row is None:
            raise ApplicationNotFound(f"no application {application_id!r} in the graph")
        return explain_gbt(model, gbt_row(row, model), MAX_REASONS if with_reasons else 0)
    if "gnn" not in hoods:  # read once, shared by the champion and a GNN shadow
        hoods["gnn"] = read_neighbourhood(runner, application_id, fanout, hub_cap)
    data, info = neighbourhood_graph(hoods["gnn"], model)
    if with_reasons:
        return explain(model, data, info)
    net = network(model)
    with torch.inference_mode():
        layers = net.layers(data.x_dict, data.edge_index_dict)
        return float(torch.sigmoid(net.logits(layers)[0])), [], []


def score_application(runner: QueryRunner, application_id: str, model: LoadedModel,
                      fanout: int = 10, shadow: LoadedModel | None = None,
                      hub_cap: int = HUB_CAP) -> GnnScore:
    """Score one application from its neighbourhood read from Neo4j, with its reasons.

    ``model`` is the champion: the GNN, or the LightGBM baseline that beat it.
    ``shadow``, a challenger, scores the same application beside it; its score is
    returned for comparison and never changes the champion's.
    """
    hoods: dict[str, dict[str, Any]] = {}
    score, reasons, codes = _score(runner, application_id, model, fanout, hub_cap, hoods,
                                   True)
    shadow_score = None
    if shadow is not None:
        value, _, _ = _score(runner, application_id, shadow, fanout, hub_cap, hoods, False)
        shadow_score = ShadowScore(model_version=shadow.version, score=value)
    return GnnScore(application_id=application_id, score=score,
                    model_version=model.version, model_kind=model.kind,
                    threshold=model.meta.threshold,
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


def _portfolio_scores(runner: QueryRunner, model: LoadedModel) -> tuple[list[str],
                                                                          np.ndarray]:
    """Every application's id and score under ``model`` (GNN or baseline)."""
    pg = load_graph(runner, spec=model.spec)
    model.check(pg.spec)
    ids = pg.apps["application_id"].astype(str).tolist()
    if model.kind == GNN:
        return ids, predict(model.model, pg.data, torch.arange(len(ids)), model.meta.config)
    # Every label known before an application was submitted counts, as in scoring one.
    rows = gbt_features(pg, model.kind, pg.data[APP].labelled.numpy())
    return ids, model.model.predict(rows)  # type: ignore[union-attr]


def score_portfolio(runner: QueryRunner, model: LoadedModel,
                    shadow: LoadedModel | None = None, batch_size: int = 5000) -> int:
    """Score every application and write ``gnn_score`` and ``gnn_model_version`` (and the
    shadow's ``gnn_shadow_score`` / ``gnn_shadow_model_version``) onto its node; refresh
    the hub statistics that scoring one application reads (``write_hub_stats``)."""
    write_hub_stats(runner)
    ids, scores = _portfolio_scores(runner, model)
    _write(runner, WRITE_SCORES, ids, scores, model.version, batch_size)
    if shadow is not None:
        shadow_ids, shadow_scores = _portfolio_scores(runner, shadow)
        _write(runner, WRITE_SHADOW_SCORES, shadow_ids, shadow_scores, shadow.version,
               batch_size)
    log.info("scored %d applications with %s", len(ids), model.version)
    return len(ids)
