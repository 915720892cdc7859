"""GNN benchmark: quality against both baselines, training cost at scale, scoring latency.

    # quality on generated portfolios (loaded into the configured Neo4j, wiped first with
    # --wipe; that database must be a scratch one):
    .venv/bin/python -m benchmarks.gnn quality --applications 20000 --seeds 1,2,3 --wipe
    # training time and peak memory, graph built straight from a generated export:
    .venv/bin/python -m benchmarks.gnn scale --applications 100000
    # p50/p95 of score_application against what is loaded now (e.g. the shared 1M graph:
    # set -a; . var/shared-1m.env; set +a), with a saved model or one trained on 20k:
    .venv/bin/python -m benchmarks.gnn latency --samples 300 [--version V]
    # ... and batches of 8 and 16 scored one by one against together (one read, one pass):
    .venv/bin/python -m benchmarks.gnn latency --samples 320 --stored-only --together 8 \
        --together 16 --version V
    # ... and the read's db hits (PROFILE), link kinds from the property against walking:
    .venv/bin/python -m benchmarks.gnn latency --samples 96 --stored-only --db-hits 1 \
        --db-hits 8 --version V
    # GraphSAGE vs R-GCN vs HGT on the same graphs (built from the exports):
    .venv/bin/python -m benchmarks.gnn arch --applications 20000 --seeds 1,2,3

References measured in the same run: the two LightGBM baselines (quality), LightGBM on
the same rows (scale), and a bare ``RETURN 1`` round trip plus the model alone (latency),
so figures taken on a busy machine can be read against its noise. Figures are JSON lines.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import neo4j
import numpy as np
import pandas as pd
import torch

from fraudgraph.memory import peak_rss_mib
from fraudgraph.settings import Settings, get_settings
from gnn.config import GnnConfig, ModelConfig, TrainConfig
from gnn.data import APP, GRAPH_RELS, PortfolioGraph, build_graph, load_graph
from gnn.evaluate import evaluate
from gnn.metrics import compute_metrics
from gnn.registry import LoadedModel, ModelMeta, load_model, model_dir, save_model
from gnn.score import (
    _ANY,
    READ_NEIGHBOURHOODS,
    explain,
    explain_flat,
    flat_neighbourhood,
    neighbourhood_graph,
    one_application,
    read_neighbourhood,
    score_application,
    score_applications,
    write_hub_stats,
)
from gnn.train import fit, predict
from graph.privacy import Pseudonymiser
from graph.runner import Query, QueryRunner
from graph.schema import IDENTIFIER_RELS, LINKS, Rel
from ingest.pipeline import ingest_folder
from synthetic import generate_portfolio

WIPE_BATCH = Query("bench.gnn.wipe_batch",
                   "MATCH (n) WITH n LIMIT 20000 DETACH DELETE n RETURN count(*) AS n")
COUNT_NODES = Query("bench.gnn.count_nodes", "MATCH (n) RETURN count(n) AS n")
PING = Query("bench.gnn.ping", "RETURN 1 AS one")


def _emit(record: dict) -> None:
    print(json.dumps(record, default=float), flush=True)


def _generate(folder: Path, applications: int, seed: int) -> Path:
    if not (folder / "applications.csv").is_file():
        generate_portfolio(folder, applications=applications, seed=seed)
    (folder / "repayments.csv").unlink(missing_ok=True)  # post-loan data: not a GNN input
    return folder


def _load(runner: QueryRunner, settings: Settings, folder: Path, wipe: bool) -> float:
    if runner.read(COUNT_NODES)[0]["n"]:
        if not wipe:
            raise SystemExit("the database is not empty: pass --wipe (scratch databases only)")
        while runner.write(WIPE_BATCH)[0]["n"]:
            pass
    pseudo = Pseudonymiser(settings.hash_key.get_secret_value(),
                           settings.encryption_key.get_secret_value())
    started = time.perf_counter()
    ingest_folder(folder, runner, pseudo, folder / "reports")
    return time.perf_counter() - started


def _truth_set(pg: PortfolioGraph, folder: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every application submitted in the test period, against the generator's truth."""
    truth = pd.read_csv(folder / "truth" / "applications.csv", dtype=str)
    is_fraud = truth.set_index("application_id")["is_fraud"].eq("true")
    y = pg.apps["application_id"].map(is_fraud).fillna(False).to_numpy(dtype=int)
    period = pg.apps["ts"].to_numpy() >= pg.split.test_from
    return {"test_period_truth": (period, y)}


def quality(args: argparse.Namespace) -> None:
    """The three models on each seed's portfolio loaded into Neo4j, read as the product
    reads it; with ``--rings without,with`` also a ring detection run written back and
    the models trained again with the ring features (``gnn.ring_features``), same split."""
    from rings.config import RingConfig
    from rings.detect import run_detection

    settings = get_settings()
    config = GnnConfig(model=ModelConfig(conv=args.conv),
                       train=TrainConfig(epochs=args.epochs))
    variants = args.rings.split(",")
    rows = []
    with QueryRunner.from_settings(settings) as runner:
        for seed in [int(s) for s in args.seeds.split(",")]:
            folder = _generate(args.work / f"p{args.applications}_s{seed}", args.applications,
                               seed)
            ingest_s = _load(runner, settings, folder, args.wipe)
            ring_s = None
            if "with" in variants:
                started = time.perf_counter()
                run_detection(runner, RingConfig())
                ring_s = time.perf_counter() - started
            for variant in variants:
                started = time.perf_counter()
                pg = load_graph(runner, rings=variant == "with")
                graph_s = time.perf_counter() - started
                config.train.seed = seed
                run = evaluate(pg, config, extra_sets=_truth_set(pg, folder))
                record = {"seed": seed, "rings": variant, "applications": len(pg.apps),
                          "ingest_s": ingest_s, "ring_detection_s": ring_s,
                          "graph_from_neo4j_s": graph_s, "split": run.comparison.split,
                          "best": run.comparison.best, "ship": run.comparison.ship}
                for name, fig in run.comparison.models.items():
                    for part, m in (("val", fig.val), ("test", fig.test),
                                    *fig.extra.items()):
                        record[f"{name}.{part}"] = {
                            "n": m.n, "fraud": m.positives, "roc_auc": m.roc_auc,
                            "ap": m.average_precision, "recall@1%": m.recall_at_1pct}
                    record[f"{name}.train_s"] = fig.train_seconds
                _emit(record)
                rows.append(record)
    for variant in variants:
        mine = [r for r in rows if r["rings"] == variant]
        summary: dict[str, object] = {"summary": "mean over seeds", "rings": variant}
        for key in mine[0]:
            if isinstance(mine[0][key], dict) and "ap" in mine[0][key]:
                summary[key] = {k: float(np.mean([r[key][k] for r in mine
                                                  if r[key][k] is not None]))
                                for k in ("roc_auc", "ap", "recall@1%")}
        _emit(summary)


def _epoch_s(values: pd.Series) -> pd.Series:
    """Epoch seconds of naive ISO datetimes read as Asia/Shanghai time (NaN if absent)."""
    stamps = pd.to_datetime(values)
    return (stamps - pd.Timestamp("1970-01-01 08:00:00")) / pd.Timedelta(seconds=1)


def tables_from_export(folder: Path) -> tuple[pd.DataFrame, dict[Rel, pd.DataFrame]]:
    """The tables ``read_portfolio`` would return, read straight from an export (raw
    identifier values as keys): for measuring training cost without a database."""
    apps = pd.read_csv(folder / "applications.csv", dtype=str)
    labels = pd.read_csv(folder / "labels.csv", dtype=str).set_index("application_id")
    ts = _epoch_s(apps["submitted_at"])
    out = pd.DataFrame({
        "application_id": apps["application_id"], "ts": ts,
        "dealer_id": apps["dealer_id"], "product": apps["product"],
        "vehicle_model": apps["vehicle_model"],
        **{c: pd.to_numeric(apps[c], errors="coerce") for c in (
            "loan_amount", "down_payment", "vehicle_price", "term_months", "monthly_income")},
        "label": apps["application_id"].map(labels["label"]),
        "disposition": None,
        "labeled_ts": _epoch_s(apps["application_id"].map(labels["labeled_at"])),
    })
    links: dict[Rel, pd.DataFrame] = {}
    columns = {link.rel: link.column for link in LINKS}
    columns[Rel.SUBMITTED_VIA] = "dealer_id"
    columns[Rel.HANDLED_BY] = "sales_agent_id"
    for rel in GRAPH_RELS:
        frame = pd.DataFrame({"app": apps["application_id"], "node": apps[columns[rel]]})
        links[rel] = frame.dropna()
    return out, links


def _truth_sample(pg: PortfolioGraph, folder: Path, size: int
                  ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A random ``size`` of the test period against the truth (all of it when smaller):
    scoring 200k applications of a 1M test period with the sampler costs minutes."""
    (period, truth), = _truth_set(pg, folder).values()
    rows = np.flatnonzero(period)
    if len(rows) > size:
        keep = np.zeros_like(period)
        keep[np.random.default_rng(0).choice(rows, size, replace=False)] = True
        period = keep
    return {"test_period_truth": (period, truth)}


def scale(args: argparse.Namespace) -> None:
    """Graph build, the three models' training time and figures, and peak memory, on one
    large portfolio: built from its export, or (``--from-neo4j``) read from the
    configured Neo4j, e.g. the shared 1M graph."""
    folder = args.export or _generate(args.work / f"p{args.applications}_s{args.seed}",
                                      args.applications, args.seed)
    rss_start = peak_rss_mib()
    started = time.perf_counter()
    if args.from_neo4j:
        with QueryRunner.from_settings(get_settings()) as runner:
            pg = load_graph(runner)
    else:
        pg = build_graph(*tables_from_export(folder))
    graph_s = time.perf_counter() - started
    rss_graph = peak_rss_mib()
    config = GnnConfig(model=ModelConfig(conv=args.conv),
                       train=TrainConfig(epochs=args.epochs, batch_size=args.batch_size,
                                         fanouts=[int(f) for f in args.fanouts.split(",")],
                                         patience=args.patience))
    run = evaluate(pg, config, extra_sets=_truth_sample(pg, folder, args.truth_sample))
    record: dict[str, object] = {
        "applications": len(pg.apps), "source": "neo4j" if args.from_neo4j else "export",
        "nodes": {t: int(pg.data[t].num_nodes) for t in pg.data.node_types},
        "edges": int(sum(pg.data[et].num_edges for et in pg.data.edge_types)),
        "split": run.comparison.split, "config": config.train.model_dump(),
        "graph_build_s": graph_s, "gnn_epochs_run": len(run.gnn.history),
        "gnn_best_epoch": run.gnn.best_epoch,
        "gnn_s_per_epoch": run.gnn.seconds / max(len(run.gnn.history), 1),
        "peak_rss_mib_before": rss_start, "peak_rss_mib_after_graph": rss_graph,
        "peak_rss_mib_after_training": peak_rss_mib(),
        "gnn_is_champion": run.comparison.gnn_is_champion, "ship": run.comparison.ship}
    for name, fig in run.comparison.models.items():
        record[f"{name}.train_s"] = fig.train_seconds
        for part, m in (("val", fig.val), ("test", fig.test), *fig.extra.items()):
            record[f"{name}.{part}"] = {"n": m.n, "fraud": m.positives, "roc_auc": m.roc_auc,
                                        "ap": m.average_precision,
                                        "recall@1%": m.recall_at_1pct}
    _emit(record)


def arch(args: argparse.Namespace) -> None:
    """The three layer kinds on the same graphs (built from the exports, no database):
    chosen on validation AP, test shown beside it."""
    for seed in [int(s) for s in args.seeds.split(",")]:
        folder = _generate(args.work / f"p{args.applications}_s{seed}", args.applications,
                           seed)
        pg = build_graph(*tables_from_export(folder))
        (period, truth), = _truth_set(pg, folder).values()
        for conv in args.convs.split(","):
            config = GnnConfig(model=ModelConfig(conv=conv),
                               train=TrainConfig(epochs=args.epochs))
            result = fit(pg.data, config, target=APP)
            nodes = torch.from_numpy(np.flatnonzero(period))
            on_truth = compute_metrics(truth[period],
                                       predict(result.model, pg.data, nodes, config))
            _emit({"seed": seed, "conv": conv, "fit_s": result.seconds,
                   "epochs_run": len(result.history), "val_ap": result.val.average_precision,
                   "test_auc": result.test.roc_auc if result.test else None,
                   "test_ap": result.test.average_precision if result.test else None,
                   "truth_ap": on_truth.average_precision,
                   "truth_recall@1%": on_truth.recall_at_1pct})


RING_FEATURES = ("ring_member", "ring_log_size", "ring_structural_score",
                 "ring_log_window_days", "ring_shared_kinds", "ring_density")


def ring_features(pg: PortfolioGraph) -> np.ndarray:
    """Per application, from issue 3's ring detection run in memory on the same graph
    **with labels left out** (a stored ring score counts known fraud labels and first
    payment defaults, so as a feature it would feed each training example its own
    label): in a ring, log ring size, the ring's structural score, log window in days,
    kinds of identifier shared, density. All of these can be read label-free from a
    stored ``Ring`` node (score minus the points of its label-based reasons)."""
    from rings.config import RingConfig
    from rings.detect import detect_in_memory
    from rings.graphdata import REL_INDEX, Applications, IdentityGraph, Links

    offsets, total = {}, 0
    for label in dict.fromkeys(lb.value for lb in IDENTIFIER_RELS.values()):
        offsets[label], total = total, total + len(pg.node_keys[label])
    parts = [(pg.links[rel.value][0], offsets[label.value] + pg.links[rel.value][1],
              REL_INDEX[rel]) for rel, label in IDENTIFIER_RELS.items()]
    links = Links(app=np.concatenate([p[0] for p in parts]),
                  ident=np.concatenate([p[1] for p in parts]),
                  rel=np.concatenate([np.full(len(p[0]), p[2], np.int8) for p in parts]),
                  mobile=np.zeros(sum(len(p[0]) for p in parts), dtype=bool))
    n = len(pg.apps)
    apps = Applications(
        ids=pg.apps["application_id"].to_numpy(object),
        submitted=pg.apps["ts"].to_numpy().astype(np.int64),
        dealer=pg.apps["dealer_id"].fillna("").to_numpy(object),
        agent=np.full(n, "", object),
        loan_amount=pg.apps["loan_amount"].to_numpy(float),
        vehicle_price=pg.apps["vehicle_price"].to_numpy(float),
        vehicle_model=pg.apps["vehicle_model"].fillna("").to_numpy(object),
        label=np.full(n, "", object), fpd=np.full(n, -1, np.int8))
    _, _, rings = detect_in_memory(IdentityGraph(apps, links, total), RingConfig())
    out = np.zeros((n, len(RING_FEATURES)), dtype=np.float32)
    for ring in rings:
        f = ring.features
        out[ring.members] = [1.0, np.log1p(len(ring.members)), ring.score / 100.0,
                             np.log1p(float(f.get("window_days", 0.0))),
                             float(f.get("shared_kinds", 0)), float(f.get("density", 0.0))]
    return out


def with_ring_features(pg: PortfolioGraph, extra: np.ndarray) -> PortfolioGraph:
    """A copy of ``pg`` whose applications also carry ``extra`` (own features, scaled)."""
    from gnn.features import standardise

    spec = pg.spec.model_copy(deep=True)
    spec.app_features += list(RING_FEATURES)
    mean, std = standardise(extra)
    spec.mean[APP] += mean
    spec.std[APP] += std
    data = copy.copy(pg.data)
    data[APP].x = torch.cat([pg.data[APP].x, torch.from_numpy(
        ((extra - np.asarray(mean)) / np.asarray(std)).astype(np.float32))], dim=1)
    return dataclasses.replace(pg, data=data, spec=spec,
                               own=np.concatenate([pg.own, extra], axis=1))


def rings(args: argparse.Namespace) -> None:
    """The three models with and without ring features, on the same graphs and splits."""
    for seed in [int(s) for s in args.seeds.split(",")]:
        folder = _generate(args.work / f"p{args.applications}_s{seed}", args.applications,
                           seed)
        pg = build_graph(*tables_from_export(folder))
        started = time.perf_counter()
        extra = ring_features(pg)
        ring_s = time.perf_counter() - started
        config = GnnConfig(model=ModelConfig(conv=args.conv),
                           train=TrainConfig(epochs=args.epochs, seed=seed))
        for variant, graph in (("without", pg), ("with", with_ring_features(pg, extra))):
            run = evaluate(graph, config, extra_sets=_truth_set(graph, folder))
            record: dict[str, object] = {"seed": seed, "rings": variant,
                                         "apps_in_rings": int(extra[:, 0].sum()),
                                         "ring_detection_s": ring_s,
                                         "ship": run.comparison.ship}
            for name, fig in run.comparison.models.items():
                for part, m in (("val", fig.val), ("test", fig.test), *fig.extra.items()):
                    record[f"{name}.{part}"] = {"ap": m.average_precision,
                                                "roc_auc": m.roc_auc,
                                                "recall@1%": m.recall_at_1pct}
            _emit(record)


SAMPLE_IDS = Query("bench.gnn.sample_ids",
                   "MATCH (a:Application) WITH a.application_id AS id, rand() AS r "
                   "ORDER BY r LIMIT $n RETURN id")


def _latency_model(args: argparse.Namespace, settings: Settings) -> LoadedModel:
    """A saved version (``--version``), else an R-GCN trained on a generated export (the
    weights' quality does not change the cost of scoring)."""
    if args.version:
        return load_model(model_dir(settings), args.version)
    folder = _generate(args.work / f"p{args.train_applications}_s1", args.train_applications, 1)
    pg = build_graph(*tables_from_export(folder))
    config = GnnConfig(model=ModelConfig(conv=args.conv), train=TrainConfig(epochs=args.epochs))
    result = fit(pg.data, config, target=APP)
    if args.save:  # reusable with --version, so that runs compare one model
        meta = save_model(model_dir(settings), result.model, config, pg.spec,
                          result.threshold, {"applications": len(pg.apps)}, {})
        print(f"saved as {meta.version} in {model_dir(settings)}", flush=True)
        return load_model(model_dir(settings), meta.version)
    meta = ModelMeta(version="bench", created_at="", target=APP, threshold=result.threshold,
                     config=config, spec=pg.spec, schema_fingerprint=pg.spec.fingerprint(),
                     training={}, metrics={})
    return LoadedModel(result.model.eval(), meta)


def _percentiles(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(float(np.percentile(values, 50) * 1e3), 2),
            "p95_ms": round(float(np.percentile(values, 95) * 1e3), 2),
            "max_ms": round(float(np.max(values) * 1e3), 2)}


def _timed(parts: dict[str, list[float]], name: str, fn, *args):  # type: ignore[no-untyped-def]
    """Run ``fn``; record its wall time under ``name`` and its thread CPU time under
    ``name_cpu`` (what it costs on an idle core, whatever the machine's load)."""
    wall, cpu = time.perf_counter(), time.thread_time()
    out = fn(*args)
    parts[f"{name}_cpu"].append(time.thread_time() - cpu)
    parts[name].append(time.perf_counter() - wall)
    return out


def _heterodata_path(model: LoadedModel, hood: dict) -> None:
    explain(model, *neighbourhood_graph(hood, model))


def _scorer_from(path: Path):  # type: ignore[no-untyped-def]
    """``score_application`` of another version of ``gnn/score.py`` (e.g. ``git show
    HEAD:gnn/score.py > /tmp/score_before.py``), run against this code's other modules."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gnn_score_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves its models' annotations there
    spec.loader.exec_module(module)
    return module.score_application


def _latency_pass(runner: QueryRunner, model: LoadedModel, ids: list[str], fanout: int,
                  hub_cap: int, before=None) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    """Per application: ``RETURN 1``, the previous ``score_application`` (``before``, when
    given) and this one end to end, alternated so both see the same load; then this
    one's parts."""
    names = ("total", "ping", "read", "subgraph", "network_reasons",
             "reference_heterodata_fused", "before_total")
    parts: dict[str, list[float]] = {k: [] for n in names for k in (n, f"{n}_cpu")}
    net = one_application(model)
    score_application(runner, ids[0], model, fanout, hub_cap=hub_cap)  # query plans
    if before is not None:
        before(runner, ids[0], model, fanout, None, hub_cap)
    for app_id in ids:
        _timed(parts, "ping", runner.read, PING)
        if before is not None:
            _timed(parts, "before_total", before, runner, app_id, model, fanout, None,
                   hub_cap)
        _timed(parts, "total", score_application, runner, app_id, model, fanout, None,
               hub_cap)
        hood = _timed(parts, "read", read_neighbourhood, runner, app_id, fanout, hub_cap,
                      model.spec.has_ring_features)
        if net is None:
            continue
        flat, info = _timed(parts, "subgraph", flat_neighbourhood, hood, model, net)
        _timed(parts, "network_reasons", explain_flat, model, net, flat, info)
        # What scoring did before (HeteroData subgraph, FusedRgcn, full backward).
        _timed(parts, "reference_heterodata_fused", _heterodata_path, model, hood)
    return {name: _percentiles(values) for name, values in parts.items() if values}


def _together_pass(runner: QueryRunner, model: LoadedModel, ids: list[str], fanout: int,
                   hub_cap: int, size: int) -> dict[str, float | int]:
    """A batch of ``size`` applications scored one by one (``score_application`` each,
    the reference) and together (``score_applications``: one read, one pass), batch by
    batch alternated so both see the same load; wall and thread CPU per application."""
    parts: dict[str, list[float]] = {k: [] for n in ("one_by_one", "together")
                                     for k in (n, f"{n}_cpu")}
    score_applications(runner, ids[:size], model, fanout, hub_cap=hub_cap)  # query plan
    batches = [ids[i:i + size] for i in range(0, len(ids) - size + 1, size)]
    for batch in batches:
        _timed(parts, "one_by_one", lambda b: [score_application(runner, i, model, fanout,
                                                                 hub_cap=hub_cap)
                                               for i in b], batch)
        _timed(parts, "together", score_applications, runner, batch, model, fanout, None,
               hub_cap)
    per_app = {name: round(float(np.mean(values)) * 1e3 / size, 3)
               for name, values in parts.items()}
    return {"batch": size, "batches": len(batches),
            **{f"{name}_ms_per_application": v for name, v in per_app.items()}}


def _walking(text: str) -> str:
    """The neighbourhood read as it was before applications stored their link kinds:
    each neighbour's relationships walked for them."""
    start = text.index("links: CASE")
    end = text.index("END,", start) + len("END,")
    return f"{text[:start]}links: [(b)-[x:{_ANY}]->() | type(x)],{text[end:]}"


def _plan_hits(plan: dict[str, Any]) -> int:
    return int(plan.get("dbHits", 0)) + sum(_plan_hits(c) for c in plan.get("children", []))


def _db_hits_pass(settings: Settings, ids: list[str], fanout: int, hub_cap: int,
                  size: int) -> dict[str, Any]:
    """``PROFILE`` of the neighbourhood read on the same applications in batches of
    ``size``, db hits per application: as it runs (link kinds from the property) and,
    the reference, walking each neighbour's relationships instead. A driver of its own:
    the runner does not hand out plans."""
    texts = {"stored_link_kinds": READ_NEIGHBOURHOODS.text,
             "walking_relationships": _walking(READ_NEIGHBOURHOODS.text)}
    hits: dict[str, list[float]] = {name: [] for name in texts}
    auth = (settings.neo4j_user, settings.neo4j_password.get_secret_value())
    with neo4j.GraphDatabase.driver(settings.bolt_uri, auth=auth) as driver, \
            driver.session(database=settings.neo4j_database) as session:
        for start in range(0, len(ids), size):
            batch = ids[start:start + size]
            for name, text in texts.items():
                summary = session.run(f"PROFILE {text}", application_ids=batch, fanout=fanout,
                                      hub_cap=hub_cap, rings=False).consume()
                hits[name].append(_plan_hits(summary.profile) / len(batch))
    return {"batch": size, **{f"{name}_db_hits_per_application": round(float(np.mean(v)))
                              for name, v in hits.items()}}


def latency(args: argparse.Namespace) -> None:
    """``score_application`` end to end on random applications of the loaded graph, then
    the same applications part by part: Cypher read, subgraph, network + reasons, each
    with its wall and thread CPU time; references in the same run: a bare ``RETURN 1``
    round trip and the previous path (``HeteroData`` subgraph, ``FusedRgcn``, backward
    through every weight). First every identifier scanned (as before hub statistics),
    then ``write_hub_stats`` (timed; it writes onto the graph's hub nodes) and the same
    applications with hubs read from their stored statistics; ``--stored-only`` runs
    the second pass alone."""
    settings = get_settings()
    torch.set_num_threads(1)
    model = _latency_model(args, settings)
    before = _scorer_from(args.before) if args.before else None
    fanout, hub_cap = settings.gnn_score_fanout, args.hub_cap or settings.gnn_hub_cap
    with QueryRunner.from_settings(settings) as runner:
        ids = [r["id"] for r in runner.read(SAMPLE_IDS, n=args.samples)]
        base = {"samples": len(ids), "model_version": model.version, "kind": model.kind,
                "fanout": fanout, "threads": 1}
        if not args.stored_only:
            _emit({**base, "hubs": "scanned every call",
                   **_latency_pass(runner, model, ids, fanout, 2**62, before)})
            started = time.perf_counter()
            written = write_hub_stats(runner, hub_cap)
            _emit({"write_hub_stats_s": time.perf_counter() - started,
                   "hub_nodes": written, "hub_cap": hub_cap})
        _emit({**base, "hubs": f"stored statistics above {hub_cap} links",
               **_latency_pass(runner, model, ids, fanout, hub_cap, before)})
        for size in args.together:
            _emit({**base, "pass": "together", **_together_pass(runner, model, ids, fanout,
                                                                hub_cap, size)})
    for size in args.db_hits:
        _emit({**base, "pass": "db hits", **_db_hits_pass(settings, ids, fanout, hub_cap,
                                                           size)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("quality", "scale", "latency", "arch", "rings"):
        p = sub.add_parser(name)
        p.add_argument("--applications", type=int, default=20_000)
        p.add_argument("--epochs", type=int, default=30)
        p.add_argument("--conv", default=ModelConfig().conv, help="sage, rgcn or hgt")
        p.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "gnn-bench")
    sub.choices["quality"].add_argument("--seeds", default="1,2,3")
    sub.choices["quality"].add_argument("--wipe", action="store_true")
    sub.choices["quality"].add_argument("--rings", default="without",
                                        help="without, with, or without,with: ring "
                                        "features from a detection run written back")
    sub.choices["scale"].add_argument("--seed", type=int, default=1)
    sub.choices["scale"].add_argument("--export", type=Path,
                                      help="an existing export (default: generate one)")
    sub.choices["scale"].add_argument("--from-neo4j", action="store_true",
                                      help="read the graph from the configured Neo4j")
    sub.choices["scale"].add_argument("--batch-size", type=int, default=512)
    sub.choices["scale"].add_argument("--fanouts", default="10,10")
    sub.choices["scale"].add_argument("--patience", type=int, default=8)
    sub.choices["scale"].add_argument("--truth-sample", type=int, default=20_000)
    sub.choices["arch"].add_argument("--seeds", default="1,2,3")
    sub.choices["arch"].add_argument("--convs", default="sage,rgcn,hgt")
    sub.choices["rings"].add_argument("--seeds", default="1,2,3")
    sub.choices["latency"].add_argument("--samples", type=int, default=300)
    sub.choices["latency"].add_argument("--version", help="a saved model (default: train "
                                        "one on a generated export)")
    sub.choices["latency"].add_argument("--train-applications", type=int, default=20_000)
    sub.choices["latency"].add_argument("--hub-cap", type=int, help="default: settings")
    sub.choices["latency"].add_argument("--before", type=Path,
                                        help="another gnn/score.py whose score_application "
                                        "runs alternated with this one (before/after)")
    sub.choices["latency"].add_argument("--save", action="store_true",
                                        help="save the model trained here (model dir)")
    sub.choices["latency"].add_argument("--together", type=int, action="append",
                                        default=[], metavar="K",
                                        help="also score batches of K one by one and "
                                        "together (score_applications); repeatable")
    sub.choices["latency"].add_argument("--db-hits", type=int, action="append",
                                        default=[], metavar="K",
                                        help="also PROFILE the neighbourhood read in "
                                        "batches of K, stored link kinds against "
                                        "walking relationships; repeatable")
    sub.choices["latency"].add_argument("--stored-only", action="store_true",
                                        help="skip the pass that scans every hub and the "
                                        "write_hub_stats refresh (statistics already there)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(1)
    {"quality": quality, "scale": scale, "latency": latency, "arch": arch,
     "rings": rings}[args.command](args)


if __name__ == "__main__":
    main()
