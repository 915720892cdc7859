"""GNN benchmark: quality against both baselines, training cost at scale, scoring latency.

    # quality on generated portfolios (loaded into the configured Neo4j, wiped first with
    # --wipe; that database must be a scratch one):
    .venv/bin/python -m benchmarks.gnn quality --applications 20000 --seeds 1,2,3 --wipe
    # training time and peak memory, graph built straight from a generated export:
    .venv/bin/python -m benchmarks.gnn scale --applications 100000
    # p50/p95 of score_application against what is loaded now:
    .venv/bin/python -m benchmarks.gnn latency --samples 300
    # GraphSAGE vs R-GCN vs HGT on the same graphs (built from the exports):
    .venv/bin/python -m benchmarks.gnn arch --applications 20000 --seeds 1,2,3

References measured in the same run: the two LightGBM baselines (quality), LightGBM on
the same rows (scale), and a bare ``RETURN 1`` round trip plus the model alone (latency),
so figures taken on a busy machine can be read against its noise. Figures are JSON lines.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from fraudgraph.settings import Settings, get_settings
from gnn.config import GnnConfig, ModelConfig, TrainConfig
from gnn.data import APP, GRAPH_RELS, PortfolioGraph, build_graph, load_graph
from gnn.evaluate import evaluate
from gnn.metrics import compute_metrics
from gnn.registry import LoadedModel, ModelMeta
from gnn.score import explain, neighbourhood_graph, read_neighbourhood, score_application
from gnn.train import fit, predict
from graph.privacy import Pseudonymiser
from graph.runner import Query, QueryRunner
from graph.schema import LINKS, Rel
from ingest.pipeline import ingest_folder
from synthetic import generate_portfolio

WIPE_BATCH = Query("bench.gnn.wipe_batch",
                   "MATCH (n) WITH n LIMIT 20000 DETACH DELETE n RETURN count(*) AS n")
COUNT_NODES = Query("bench.gnn.count_nodes", "MATCH (n) RETURN count(n) AS n")
PING = Query("bench.gnn.ping", "RETURN 1 AS one")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


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
    settings = get_settings()
    config = GnnConfig(model=ModelConfig(conv=args.conv),
                       train=TrainConfig(epochs=args.epochs))
    rows = []
    with QueryRunner.from_settings(settings) as runner:
        for seed in [int(s) for s in args.seeds.split(",")]:
            folder = _generate(args.work / f"p{args.applications}_s{seed}", args.applications,
                               seed)
            ingest_s = _load(runner, settings, folder, args.wipe)
            started = time.perf_counter()
            pg = load_graph(runner)
            graph_s = time.perf_counter() - started
            run = evaluate(pg, config, extra_sets=_truth_set(pg, folder))
            record = {"seed": seed, "applications": len(pg.apps), "ingest_s": ingest_s,
                      "graph_from_neo4j_s": graph_s, "split": run.comparison.split,
                      "best": run.comparison.best,
                      "gnn_is_champion": run.comparison.gnn_is_champion}
            for name, fig in run.comparison.models.items():
                for part, m in (("test", fig.test), *fig.extra.items()):
                    record[f"{name}.{part}"] = {
                        "n": m.n, "fraud": m.positives, "roc_auc": m.roc_auc,
                        "ap": m.average_precision, "recall@1%": m.recall_at_1pct}
                record[f"{name}.train_s"] = fig.train_seconds
            _emit(record)
            rows.append(record)
    summary: dict[str, object] = {"summary": "mean over seeds"}
    for key in rows[0]:
        if isinstance(rows[0][key], dict) and "ap" in rows[0][key]:
            summary[key] = {k: float(np.mean([r[key][k] for r in rows if r[key][k] is not None]))
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


def scale(args: argparse.Namespace) -> None:
    from gnn.baselines import fit_gbt

    folder = _generate(args.work / f"p{args.applications}_s{args.seed}", args.applications,
                       args.seed)
    rss_start = peak_rss_mb()
    started = time.perf_counter()
    apps, links = tables_from_export(folder)
    pg = build_graph(apps, links)
    graph_s = time.perf_counter() - started
    rss_graph = peak_rss_mb()
    config = GnnConfig(model=ModelConfig(conv=args.conv),
                       train=TrainConfig(epochs=args.epochs))
    result = fit(pg.data, config, target=APP)
    rss_fit = peak_rss_mb()
    started = time.perf_counter()
    gbt = fit_gbt(pg.own, pg.y, pg.split.train, pg.split.val, pg.spec.app_features)
    gbt_s = time.perf_counter() - started
    del gbt
    _emit({"applications": len(pg.apps),
           "nodes": {t: int(pg.data[t].num_nodes) for t in pg.data.node_types},
           "edges": int(sum(pg.data[et].num_edges for et in pg.data.edge_types)),
           "train_labels": int(pg.split.train.sum()), "graph_build_s": graph_s,
           "gnn_train_s": result.seconds, "epochs_run": len(result.history),
           "s_per_epoch": result.seconds / max(len(result.history), 1),
           "reference_gbt_own_train_s": gbt_s,
           "peak_rss_mb_before": rss_start, "peak_rss_mb_after_graph": rss_graph,
           "peak_rss_mb_after_training": rss_fit,
           "gnn_test_ap": result.test.average_precision if result.test else None})


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


def latency(args: argparse.Namespace) -> None:
    settings = get_settings()
    torch.set_num_threads(1)
    with QueryRunner.from_settings(settings) as runner:
        pg = load_graph(runner)
        config = GnnConfig(model=ModelConfig(conv=args.conv),
                       train=TrainConfig(epochs=args.epochs))
        result = fit(pg.data, config, target=APP)
        meta = ModelMeta(version="bench", created_at="", target=APP,
                         threshold=result.threshold, config=config, spec=pg.spec,
                         schema_fingerprint=pg.spec.fingerprint(), training={}, metrics={})
        model = LoadedModel(result.model.eval(), meta)
        ids = pg.apps["application_id"].sample(args.samples, random_state=0).tolist()
        score_application(runner, ids[0], model)  # warm up the query plan
        parts: dict[str, list[float]] = {"total": [], "ping": [], "read": [], "model": []}
        for app_id in ids:
            t0 = time.perf_counter()
            runner.read(PING)
            t1 = time.perf_counter()
            score_application(runner, app_id, model, fanout=settings.gnn_score_fanout)
            t2 = time.perf_counter()
            hood = read_neighbourhood(runner, app_id, settings.gnn_score_fanout)
            t3 = time.perf_counter()
            data, info = neighbourhood_graph(hood, model)
            explain(model, data, info)
            t4 = time.perf_counter()
            parts["ping"].append(t1 - t0)
            parts["total"].append(t2 - t1)
            parts["read"].append(t3 - t2)
            parts["model"].append(t4 - t3)
    record: dict[str, object] = {"applications": len(pg.apps), "samples": len(ids),
                                 "conv": args.conv}
    for name, values in parts.items():
        record[f"{name}_p50_ms"] = float(np.percentile(values, 50) * 1e3)
        record[f"{name}_p95_ms"] = float(np.percentile(values, 95) * 1e3)
    _emit(record)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("quality", "scale", "latency", "arch"):
        p = sub.add_parser(name)
        p.add_argument("--applications", type=int, default=20_000)
        p.add_argument("--epochs", type=int, default=30)
        p.add_argument("--conv", default=ModelConfig().conv, help="sage, rgcn or hgt")
        p.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "gnn-bench")
    sub.choices["quality"].add_argument("--seeds", default="1,2,3")
    sub.choices["quality"].add_argument("--wipe", action="store_true")
    sub.choices["scale"].add_argument("--seed", type=int, default=1)
    sub.choices["arch"].add_argument("--seeds", default="1,2,3")
    sub.choices["arch"].add_argument("--convs", default="sage,rgcn,hgt")
    sub.choices["latency"].add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(1)
    {"quality": quality, "scale": scale, "latency": latency, "arch": arch}[args.command](args)


if __name__ == "__main__":
    main()
