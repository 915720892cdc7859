"""Scoring: one application from its neighbourhood in Neo4j, with reasons; and the
whole portfolio in batches.

``score_application`` reads the application, its identifiers (with their degree, time
span and dealer count) and up to ``fanout`` other applications per identifier in one
query, builds the same two-hop subgraph the training sampler draws, and runs the model
once forward and once backward: a two-layer R-GCN as ``OneApplicationRgcn`` on the flat
subgraph (``flat_neighbourhood``), computing only what this application's score depends
on; other networks on a ``HeteroData`` (``neighbourhood_graph``). A model with ring
features also reads each application's ring in the latest detection run
(``gnn.ring_features``). An identifier shared by more than ``HUB_CAP``
applications (a dealer, a sales agent, a carrier NAT address, a giant employer: on the
1M portfolio up to 40,000) is not scanned on every call: its degree is its live link
count from Neo4j's degree store, its first/last submission and dealer count are read
from the node, where ``write_hub_stats`` (run by ``score_portfolio``) stores them. A
hub without them yet (new since the last batch) is scanned as before.
``score_applications`` scores a batch of submissions the same way, with one read for
all of them and, for the R-GCN, one forward and one backward pass over their subgraphs
as disjoint blocks of one flat table (``flat_neighbourhoods``, ``explain_flat_many``).

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
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel
from torch_geometric.data import HeteroData

from gnn.baseline_score import explain_gbt, gbt_row, read_gbt_row
from gnn.baselines import gbt_features
from gnn.data import APP, GRAPH_RELS, load_graph
from gnn.features import SECONDS_PER_DAY, application_features, node_feature_rows
from gnn.inference import FusedRgcn, Neighbourhood, OneApplicationRgcn
from gnn.model import HeteroGnn
from gnn.reasons import MAX_REASONS, feature_reason
from gnn.registry import GNN, LoadedModel
from gnn.ring_features import (
    LATEST_RUN_CALL,
    after_run,
    application_ring,
    member_ring,
    resolve_ring,
    ring_row,
)
from gnn.train import predict
from graph.runner import Query, QueryRunner
from graph.schema import LINK_KINDS
from ingest.load import backfill_link_kinds

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
# COUNT { (i)<-[:T1|T2]-() } reads the degree store instead of walking a hub. Still, an
# expansion walks every relationship of a sparse node, so a neighbour's own link kinds
# come from its stored LINK_KINDS; an application loaded before ingest wrote them (until
# ``score_portfolio`` backfills it) has its relationships walked.
READ_NEIGHBOURHOODS = Query(
    "gnn.read_neighbourhoods",
    f"""
    {LATEST_RUN_CALL}
    UNWIND $application_ids AS application_id
    MATCH (a:{APP} {{application_id: application_id}})
    WITH a, run, a.submitted_at.epochSeconds AS t
    CALL (a, t, run) {{
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
      CALL (a, i, run) {{
        MATCH (i)<-[r2:{_ANY}]-(b:{APP}) WHERE b <> a
        WITH b, r2 LIMIT $fanout
        RETURN collect({{rel: type(r2), app: b {{
          .application_id, .loan_amount, .down_payment, .vehicle_price, .vehicle_model,
          .term_months, .monthly_income, .product, .label,
          ts: b.submitted_at.epochSeconds,
          links: CASE WHEN b.{LINK_KINDS} IS NULL THEN [(b)-[x:{_ANY}]->() | type(x)]
                      ELSE b.{LINK_KINDS} END,
          ring: CASE WHEN $rings THEN {member_ring("b")} END}}}}) AS neighbours
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
               .vehicle_model, .term_months, .monthly_income, .product, ts: t,
               ring: CASE WHEN $rings THEN {member_ring("a")} END,
               after_run: {after_run("a")}}} AS app,
           links
    """,
)


def read_neighbourhood(runner: QueryRunner, application_id: str, fanout: int,
                       hub_cap: int = HUB_CAP, rings: bool = False) -> dict[str, Any]:
    """The application, its identifiers with their statistics, and up to ``fanout``
    other applications per identifier. Identifiers above ``hub_cap`` links use their
    stored statistics when they have them (degree: the live link count; last
    submission: this application's when it is newer). With ``rings``, every application
    read also carries its ring in the latest detection run (``ring``; rule 1 of
    ``gnn.ring_features``), and the scored one whether it came after that run."""
    hoods = read_neighbourhoods(runner, [application_id], fanout, hub_cap, rings)
    if application_id not in hoods:
        raise ApplicationNotFound(f"no application {application_id!r} in the graph")
    return hoods[application_id]


def read_neighbourhoods(runner: QueryRunner, application_ids: list[str], fanout: int,
                        hub_cap: int = HUB_CAP, rings: bool = False
                        ) -> dict[str, dict[str, Any]]:
    """``read_neighbourhood`` of several applications in one statement (one round trip
    for a batch of submissions), by application id; an id not in the graph is not in
    the answer."""
    # Plain values only: read as the driver decodes them (``Record.data()`` re-walks the
    # ~1,000 values of the answer in Python, ~3 ms of CPU per call).
    rows = runner.read_plain(READ_NEIGHBOURHOODS, application_ids=application_ids,
                             fanout=fanout, hub_cap=hub_cap, rings=rings)
    return {row["app"]["application_id"]: row for row in rows}


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
    if spec.has_ring_features:
        own = np.concatenate([own, np.asarray([ring_row(app.get("ring")) for app in apps],
                                              dtype=np.float32)], axis=1)
    return spec.scale(APP, own)


@dataclass
class _Walk:
    """A neighbourhood walked once, for both subgraph forms: applications by position (0
    is the scored one), distinct identifier nodes numbered in first-seen order, edges
    ``(application, node, relationship, own link of the scored one)`` in read order, and
    per link of the scored application what its reason needs."""

    apps: list[dict[str, Any]]
    app_links: list[set[str]]
    nodes: list[tuple[str, float, float, float]]  # label, degree, span in days, dealers
    edges: list[tuple[int, int, str, bool]]
    info: list[dict[str, Any]]


def _walk(hood: dict[str, Any]) -> _Walk:
    apps: list[dict[str, Any]] = [hood["app"]]
    app_links: list[set[str]] = [{link["rel"] for link in hood["links"]}]
    app_pos = {hood["app"]["application_id"]: 0}
    node_no: dict[tuple[str, str], int] = {}
    walk = _Walk(apps, app_links, [], [], [])
    for link in hood["links"]:
        label = _REL_TO_LABEL[link["rel"]]
        node = node_no.get((label, link["node"]))
        if node is None:
            node = node_no[(label, link["node"])] = len(walk.nodes)
            span = ((link["last_ts"] or 0) - (link["first_ts"] or 0)) / SECONDS_PER_DAY
            walk.nodes.append((label, link["degree"], span, link["dealers"]))
        walk.edges.append((0, node, link["rel"], True))
        fraud = 0
        for item in link["neighbours"]:
            other = item["app"]
            pos = app_pos.get(other["application_id"])
            if pos is None:
                pos = app_pos[other["application_id"]] = len(apps)
                apps.append(other)
                app_links.append(set(other["links"]))
            fraud += other.get("label") == "fraud"
            walk.edges.append((pos, node, item["rel"], False))
        walk.info.append({"rel": link["rel"], "label": label, "node": node,
                          "others": link["degree"] - 1, "fraud": fraud,
                          "sampled": len(link["neighbours"])})
    return walk


def neighbourhood_graph(hood: dict[str, Any], loaded: LoadedModel
                        ) -> tuple[HeteroData, list[dict[str, Any]]]:
    """The two-hop subgraph around the application (node 0 of its type).

    Also returns, per identifier node in order, what the reasons need to say about it.
    """
    spec = loaded.spec
    walk = _walk(hood)
    local: list[int] = []  # a node's index among the nodes of its type
    stats: dict[str, list[tuple[float, float, float]]] = {
        t: [] for t in spec.node_types if t != APP}
    for label, *node_stats in walk.nodes:
        local.append(len(stats[label]))
        stats[label].append(tuple(node_stats))  # type: ignore[arg-type]
    edges: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
    for pos, node, rel, own in walk.edges:
        label = walk.nodes[node][0]
        if own:
            edges.setdefault((label, f"rev_{rel}", APP), []).append((local[node], 0))
        edges.setdefault((APP, rel, label), []).append((pos, local[node]))
    data = HeteroData()
    data[APP].x = torch.from_numpy(_own_rows(walk.apps, walk.app_links, loaded))
    width = len(spec.node_features)
    for label, rows in stats.items():
        raw = np.asarray(rows, dtype=float).reshape(-1, 3)
        feats = (node_feature_rows(raw[:, 0], raw[:, 1], raw[:, 2]) if rows
                 else np.zeros((0, width), np.float32))
        data[label].x = torch.from_numpy(spec.scale(label, feats))
    for edge_type in spec.edge_types:
        pairs = edges.get(tuple(edge_type), [])  # type: ignore[arg-type]
        data[tuple(edge_type)].edge_index = (torch.tensor(pairs, dtype=torch.long).t()
                                             if pairs else torch.empty(2, 0, dtype=torch.long))
    return data, [{**item, "local": local[item["node"]]} for item in walk.info]


def flat_neighbourhood(hood: dict[str, Any], loaded: LoadedModel,
                       net: OneApplicationRgcn) -> tuple[Neighbourhood, list[dict[str, Any]]]:
    """The same subgraph as ``neighbourhood_graph``, in the flat form of
    ``OneApplicationRgcn`` (identifier rows of every type in one table)."""
    flat, infos = flat_neighbourhoods([hood], loaded, net)
    return flat, infos[0]


def flat_neighbourhoods(hoods: list[dict[str, Any]], loaded: LoadedModel,
                        net: OneApplicationRgcn
                        ) -> tuple[Neighbourhood, list[list[dict[str, Any]]]]:
    """Several applications' subgraphs as disjoint blocks of one flat ``Neighbourhood``
    (an application or identifier in two of them appears in both, so each score is the
    one it gets alone), with each one's link items (``row``: its identifier's row)."""
    rel_no = {rel: i for i, rel in enumerate(net.rels)}
    type_no = {t: i for i, t in enumerate(net.node_types)}
    apps: list[dict[str, Any]] = []
    app_links: list[set[str]] = []
    stats: list[tuple[float, float, float]] = []
    types: list[int] = []
    edges: list[tuple[int, int, int]] = []
    roots: list[int] = []
    own: list[tuple[int, int]] = []  # (edge, root)
    infos: list[list[dict[str, Any]]] = []
    for root, hood in enumerate(hoods):
        walk = _walk(hood)
        app_base, node_base = len(apps), len(stats)
        roots.append(app_base)
        apps += walk.apps
        app_links += walk.app_links
        stats += [node[1:] for node in walk.nodes]
        types += [type_no[node[0]] for node in walk.nodes]
        for pos, node, rel, is_own in walk.edges:
            if is_own:
                own.append((len(edges), root))
            edges.append((app_base + pos, node_base + node, rel_no[rel]))
        infos.append([{**item, "row": node_base + item["node"]} for item in walk.info])
    raw = np.asarray(stats, dtype=float).reshape(-1, 3)
    feats = node_feature_rows(raw[:, 0], raw[:, 1], raw[:, 2])
    mean, std = _node_scaling(loaded, net)
    node_type = np.asarray(types, dtype=np.int64)
    pairs = torch.tensor(edges, dtype=torch.long).reshape(-1, 3).t()
    own_pairs = torch.tensor(own, dtype=torch.long).reshape(-1, 2).t()
    return Neighbourhood(
        x_app=torch.from_numpy(_own_rows(apps, app_links, loaded)),
        x_node=torch.from_numpy(((feats - mean[node_type]) / std[node_type])
                                .astype(np.float32)),
        node_type=torch.from_numpy(node_type), edge_app=pairs[0], edge_node=pairs[1],
        edge_rel=pairs[2], roots=torch.tensor(roots, dtype=torch.long),
        own_edges=own_pairs[0], own_root=own_pairs[1]), infos


def _node_scaling(loaded: LoadedModel, net: OneApplicationRgcn
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Per node type (rows in ``net.node_types`` order), the feature means and stds."""
    if "node_scaling" not in loaded.cache:
        spec = loaded.spec
        loaded.cache["node_scaling"] = (
            np.asarray([spec.mean[t] for t in net.node_types], dtype=np.float32),
            np.asarray([spec.std[t] for t in net.node_types], dtype=np.float32))
    return loaded.cache["node_scaling"]


def one_application(loaded: LoadedModel) -> OneApplicationRgcn | None:
    """The flat network for one application (two-layer R-GCNs), built once per model;
    None for other networks, which run ``explain`` on the ``HeteroData`` subgraph."""
    if "one" not in loaded.cache:
        model = loaded.model
        assert isinstance(model, HeteroGnn)
        model.eval()
        ok = model.config.conv == "rgcn" and len(model.convs) == 2
        loaded.cache["one"] = OneApplicationRgcn(
            model, [tuple(e) for e in loaded.spec.edge_types]) if ok else None
    return loaded.cache["one"]


def explain_flat(loaded: LoadedModel, net: OneApplicationRgcn, g: Neighbourhood,
                 info: list[dict[str, Any]], with_reasons: bool = True
                 ) -> tuple[float, list[str], list[str]]:
    """``explain`` on the flat network: the same score and reasons (gradient x activation
    of each identifier's first layer, gradient x input of the application's features),
    with gradients taken for those tensors only, not for the weights."""
    return explain_flat_many(loaded, net, g, [info], with_reasons)[0]


def explain_flat_many(loaded: LoadedModel, net: OneApplicationRgcn, g: Neighbourhood,
                      infos: list[list[dict[str, Any]]], with_reasons: bool = True
                      ) -> list[tuple[float, list[str], list[str]]]:
    """``explain_flat`` for every scored application of ``g`` in one forward and one
    backward pass: the blocks are disjoint, so the gradient of the summed logits at one
    application's tensors is the gradient of its own logit."""
    if not with_reasons:
        with torch.inference_mode():
            scores = torch.sigmoid(net.layers(g)[2]).tolist()
        return [(score, [], []) for score in scores]
    x_app = g.x_app.requires_grad_()
    _, hidden, logits = net.layers(g)
    grad_hidden, grad_x = torch.autograd.grad(logits.sum(), [hidden, x_app],
                                              allow_unused=True)
    weights = (grad_hidden * hidden).sum(1).tolist() if grad_hidden is not None else None
    own = x_app[g.roots].detach()
    contribs = (grad_x[g.roots] * own).tolist() if grad_x is not None else None
    own_values = own.tolist()
    scores = torch.sigmoid(logits.detach()).tolist()
    explained = []
    for k, info in enumerate(infos):
        pushes: list[tuple[float, str, str]] = []
        if weights is not None:
            pushes += [(weights[item["row"]], *_link_reason(item)) for item in info
                       if item["others"] > 0]  # an unshared identifier is no relationship
        if contribs is not None:
            pushes += [(c, *feature_reason(name, v)) for name, c, v in
                       zip(loaded.spec.app_features, contribs[k], own_values[k], strict=True)]
        pushes.sort(key=lambda p: -p[0])
        top = [p for p in pushes if p[0] > 0][:MAX_REASONS]
        explained.append((scores[k], [p[2] for p in top], [p[1] for p in top]))
    return explained


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
           hub_cap: int, hoods: dict[str, Any], with_reasons: bool, ring_match: Any
           ) -> tuple[float, list[str], list[str]]:
    """Score (and reasons) with a GNN or a LightGBM baseline, whichever ``model`` is.
    ``hoods`` keeps what one model read for the next (champion, then shadow)."""
    rings = model.spec.has_ring_features
    if model.kind != GNN:
        row = read_gbt_row(runner, application_id)
        if row is None:
            raise ApplicationNotFound(f"no application {application_id!r} in the graph")
        ring = None
        if rings:
            if "ring" not in hoods:
                hoods["ring"] = application_ring(runner, application_id, ring_match)
            ring = hoods["ring"]
        return explain_gbt(model, gbt_row(row, model, ring),
                           MAX_REASONS if with_reasons else 0)
    key = _hood_key(rings)
    if key not in hoods:  # read once, shared by the champion and a GNN shadow
        _keep(runner, application_id,
              read_neighbourhood(runner, application_id, fanout, hub_cap, rings), rings,
              hoods, ring_match)
    hood = hoods[key]
    net = one_application(model)
    if net is not None:
        flat, flat_info = flat_neighbourhood(hood, model, net)
        return explain_flat(model, net, flat, flat_info, with_reasons)
    data, info = neighbourhood_graph(hood, model)
    if with_reasons:
        return explain(model, data, info)
    net = network(model)
    with torch.inference_mode():
        layers = net.layers(data.x_dict, data.edge_index_dict)
        return float(torch.sigmoid(net.logits(layers)[0])), [], []


def _hood_key(rings: bool) -> str:
    return f"gnn-rings-{rings}"


def _keep(runner: QueryRunner, application_id: str, hood: dict[str, Any], rings: bool,
          hoods: dict[str, Any], ring_match: Any) -> dict[str, Any]:
    """Keep a neighbourhood read in ``hoods`` (with a ring model, after rules 2 and 3 of
    ``gnn.ring_features`` for the scored application), for each model that scores it."""
    if rings:
        if "ring" not in hoods:
            hoods["ring"] = resolve_ring(runner, application_id, hood["app"]["ring"],
                                         hood["app"]["after_run"], ring_match)
        hood["app"]["ring"] = hoods["ring"]
    hoods[_hood_key(rings)] = hood
    return hoods


def _result(application_id: str, model: LoadedModel, explained: tuple[float, list[str],
            list[str]], shadow: ShadowScore | None) -> GnnScore:
    score, reasons, codes = explained
    return GnnScore(application_id=application_id, score=score,
                    model_version=model.version, model_kind=model.kind,
                    threshold=model.meta.threshold,
                    flagged=score >= model.meta.threshold, reasons=reasons,
                    reason_codes=codes, shadow=shadow)


def _shadow(runner: QueryRunner, application_id: str, shadow: LoadedModel | None,
            fanout: int, hub_cap: int, hoods: dict[str, Any], ring_match: Any
            ) -> ShadowScore | None:
    if shadow is None:
        return None
    value, _, _ = _score(runner, application_id, shadow, fanout, hub_cap, hoods, False,
                         ring_match)
    return ShadowScore(model_version=shadow.version, score=value)


def score_application(runner: QueryRunner, application_id: str, model: LoadedModel,
                      fanout: int = 10, shadow: LoadedModel | None = None,
                      hub_cap: int = HUB_CAP, ring_match: Any = None) -> GnnScore:
    """Score one application from its neighbourhood read from Neo4j, with its reasons.

    ``model`` is the champion: the GNN, or the LightGBM baseline that beat it.
    ``shadow``, a challenger, scores the same application beside it; its score is
    returned for comparison and never changes the champion's. ``ring_match``: the
    application's ``rings.incremental.RingMatch`` when the caller has it (a model with
    ring features otherwise runs the incremental assignment itself for an application
    submitted after the latest detection run).
    """
    hoods: dict[str, Any] = {}
    explained = _score(runner, application_id, model, fanout, hub_cap, hoods, True,
                       ring_match)
    return _result(application_id, model, explained,
                   _shadow(runner, application_id, shadow, fanout, hub_cap, hoods,
                           ring_match))


def score_applications(runner: QueryRunner, application_ids: list[str], model: LoadedModel,
                       fanout: int = 10, shadow: LoadedModel | None = None,
                       hub_cap: int = HUB_CAP) -> dict[str, GnnScore]:
    """``score_application`` for several applications (a batch of submissions), by id;
    an id not in the graph is not in the answer. For a two-layer R-GCN champion the
    neighbourhoods come in one statement and are scored and explained in one forward
    and one backward pass (``explain_flat_many``), each application's subgraph a
    separate block, so every result is the one it gets alone; other models score one
    application at a time."""
    net = one_application(model) if model.kind == GNN else None
    if net is None:
        found = {}
        for application_id in application_ids:
            try:
                found[application_id] = score_application(runner, application_id, model,
                                                          fanout, shadow, hub_cap)
            except ApplicationNotFound:
                continue
        return found
    rings = model.spec.has_ring_features
    read = read_neighbourhoods(runner, application_ids, fanout, hub_cap, rings)
    if not read:
        return {}
    kept = {i: _keep(runner, i, hood, rings, {}, None) for i, hood in read.items()}
    flat, infos = flat_neighbourhoods([hoods[_hood_key(rings)] for hoods in kept.values()],
                                      model, net)
    explained = explain_flat_many(model, net, flat, infos)
    return {i: _result(i, model, one, _shadow(runner, i, shadow, fanout, hub_cap, hoods,
                                             None))
            for (i, hoods), one in zip(kept.items(), explained, strict=True)}


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


def write_shadow_score(runner: QueryRunner, result: GnnScore) -> bool:
    """Store the challenger's score of one scored application on it (the same
    ``gnn_shadow_score`` / ``gnn_shadow_model_version`` that ``score_portfolio`` writes),
    for comparing champion and challenger on live traffic; the champion's score and
    whatever was decided from it are left as they are. False when there was no shadow."""
    return write_shadow_scores(runner, [result]) == 1


def write_shadow_scores(runner: QueryRunner, results: list[GnnScore]) -> int:
    """``write_shadow_score`` for a batch of scored applications, one statement per
    challenger version (a batch has one); returns how many had a shadow score."""
    by_version: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        if result.shadow is not None:
            by_version.setdefault(result.shadow.model_version, []).append(
                {"id": result.application_id, "score": result.shadow.score})
    for version, rows in by_version.items():
        runner.write(WRITE_SHADOW_SCORES, rows=rows, version=version)
    return sum(len(rows) for rows in by_version.values())


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
    the hub statistics that scoring one application reads (``write_hub_stats``) and
    write the link kinds of applications loaded without them."""
    write_hub_stats(runner)
    backfill_link_kinds(runner)
    ids, scores = _portfolio_scores(runner, model)
    _write(runner, WRITE_SCORES, ids, scores, model.version, batch_size)
    if shadow is not None:
        shadow_ids, shadow_scores = _portfolio_scores(runner, shadow)
        _write(runner, WRITE_SHADOW_SCORES, shadow_ids, shadow_scores, shadow.version,
               batch_size)
    log.info("scored %d applications with %s", len(ids), model.version)
    return len(ids)
