"""Ring detection benchmark and quality figures on generated portfolios.

    .venv/bin/python -m benchmarks.rings --applications 100000 --seed 7
    .venv/bin/python -m benchmarks.rings --applications 20000 --seeds 1,2,3 --quality-only
    set -a; . var/shared-1m.env; set +a
    .venv/bin/python -m benchmarks.rings --loaded var/bench/portfolio-1000000-7

For each seed: generate a portfolio (with ground truth), load it into the configured Neo4j
(wiped first; that database must be a scratch one), run full detection with write-back,
split into read / projection / communities / scoring / write-back with peak memory, run
igraph's bare Leiden on the same projection as the reference, score a sample of
applications incrementally (p50/p95 ms), and evaluate against the truth. Prints one JSON
object per seed. Uses the environment's Settings (NEO4J_PASSWORD, FRAUDGRAPH_NEO4J_PORT...).

With ``--loaded DIR`` nothing is generated, loaded or wiped: the same measurements run on
the database the settings point at, which already holds the portfolio generated into DIR
(its ground truth in DIR/truth), e.g. a shared 1M-application graph.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path

import numpy as np

from fraudgraph.logs import configure
from fraudgraph.settings import get_settings
from graph import server
from graph.privacy import Pseudonymiser
from graph.runner import Query, QueryRunner
from ingest.pipeline import ingest_folder
from rings.communities import bare_leiden
from rings.config import load_config
from rings.detect import detect_in_memory, peak_rss_mb, run_detection
from rings.evaluate import evaluate, read_truth, rings_from_membership
from rings.graphdata import Applications, IdentityGraph, Links
from rings.incremental import score_application
from synthetic import generate_portfolio

# Every application's id, in the detection's order (node ids ascending): the run itself
# reads attributes only where strong links join applications.
APPLICATION_IDS = Query("bench.application_ids",
                        "MATCH (a:Application) RETURN collect(id(a)) AS nid, "
                        "collect(a.application_id) AS ids")

WIPE_BATCH = Query("bench.wipe_batch",
                   "MATCH (n) WITH n LIMIT 20000 DETACH DELETE n RETURN count(*) AS n")


def wipe(runner: QueryRunner) -> None:
    while runner.write(WIPE_BATCH)[0]["n"]:
        pass


def load_portfolio(runner: QueryRunner, folder: Path, applications: int, seed: int,
                   repayments: bool) -> dict[str, float]:
    started = time.perf_counter()
    if folder.exists():
        shutil.rmtree(folder)
    generate_portfolio(folder, applications=applications, seed=seed)
    if not repayments:
        (folder / "repayments.csv").unlink(missing_ok=True)
    generated = time.perf_counter()
    wipe(runner)
    settings = get_settings()
    pseudo = Pseudonymiser(settings.hash_key.get_secret_value(),
                           settings.encryption_key.get_secret_value())
    report = ingest_folder(folder, runner, pseudo, folder / "reports")
    loaded = time.perf_counter()
    return {"generate_s": round(generated - started, 1), "load_s": round(loaded - generated, 1),
            "loaded_applications": report.tables["applications"].loaded}


def application_ids(runner: QueryRunner, graph: IdentityGraph) -> list[str]:
    row = runner.read_plain(APPLICATION_IDS)[0]
    ids = np.asarray(row["ids"], dtype=object)[np.argsort(np.asarray(row["nid"]))]
    assert len(ids) == graph.n_apps, "applications changed during the run"
    return [str(a) for a in ids]


def incremental_ms(runner: QueryRunner, app_ids: list[str], config, count: int,  # type: ignore
                   seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    sample = rng.choice(app_ids, size=min(count, len(app_ids)), replace=False)
    times, actions = [], {}
    for app in sample:
        started = time.perf_counter()
        match = score_application(runner, str(app), config)
        times.append((time.perf_counter() - started) * 1000)
        actions[match.action] = actions.get(match.action, 0) + 1
    times.sort()
    return {"n": len(times), "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2), "actions": actions}


def tile(graph: IdentityGraph, copies: int) -> IdentityGraph:
    """``copies`` disjoint copies of ``graph``: a larger portfolio of the same structure
    (more dealers, more rings), for timing the in-memory steps beyond what fits a load."""
    n, m = graph.n_apps, graph.n_identifiers
    a = graph.apps
    apps = Applications(
        ids=np.concatenate([a.ids + f"#{c}" for c in range(copies)]),
        **{name: np.tile(getattr(a, name), copies) for name in (
            "submitted", "dealer", "agent", "loan_amount", "vehicle_price", "vehicle_model",
            "label", "fpd")})
    links = Links(app=np.concatenate([graph.links.app + c * n for c in range(copies)]),
                  ident=np.concatenate([graph.links.ident + c * m for c in range(copies)]),
                  rel=np.tile(graph.links.rel, copies), mobile=np.tile(graph.links.mobile, copies))
    return IdentityGraph(apps, links, m * copies, model_medians=graph.model_medians)


def in_memory_at_scale(graph: IdentityGraph, config, copies: int) -> dict:  # type: ignore
    """Projection, communities, scoring and the bare-Leiden reference on a tiled graph."""
    big = tile(graph, copies)
    timings: dict[str, float] = {}
    projection, _, rings = detect_in_memory(big, config, timings)
    started = time.perf_counter()
    bare_leiden(projection, config)
    return {"applications": big.n_apps, "links": len(big.links), "pairs": projection.n_edges,
            "rings": len(rings), "steps_s": timings,
            "bare_leiden_reference_s": round(time.perf_counter() - started, 3),
            "peak_rss_mb": round(peak_rss_mb())}


def run_seed(args: argparse.Namespace, seed: int | None) -> dict:
    """Figures of one portfolio: generated and loaded for ``seed``, or (``seed`` None)
    the one already loaded from ``args.loaded``."""
    settings = get_settings()
    config = load_config(args.config or settings.ring_config_file)
    folder = args.loaded or args.work / f"portfolio-{args.applications}-{seed}"
    out: dict = {"applications": args.applications, "seed": seed, "portfolio": str(folder)}
    with QueryRunner.from_settings(settings) as runner:
        if seed is not None and not args.reuse:
            out["load"] = load_portfolio(runner, folder, args.applications, seed,
                                         not args.no_repayments)
        rss_before = peak_rss_mb()
        result = run_detection(runner, config)
        out["detect_s"] = result.timings | {"total": round(sum(result.timings.values()), 3)}
        out["peak_rss_mb"] = {"before": round(rss_before), "after_detect": round(peak_rss_mb())}
        out["counts"] = result.counts
        out["applications"] = result.counts["applications"]
        started = time.perf_counter()
        reference = bare_leiden(result.projection, config)
        out["bare_leiden_reference_s"] = round(time.perf_counter() - started, 3)
        sizes = np.bincount(reference)
        out["bare_leiden_communities"] = {"count": int(len(sizes)),
                                          "largest": int(sizes.max()) if len(sizes) else 0}
        out["peak_rss_mb"]["after_reference"] = round(peak_rss_mb())
        ids = application_ids(runner, result.graph)
        if not args.quality_only:
            out["incremental"] = incremental_ms(runner, ids, config, args.incremental,
                                                config.seed if seed is None else seed)
        if args.tile > 1:
            out["tiled"] = in_memory_at_scale(result.graph, config, args.tile)
    truth = read_truth(folder)
    rings = {rid: [ids[m] for m in ring.members]
             for rid, ring in zip(result.ring_ids, result.rings, strict=True)}
    scores = {rid: ring.score for rid, ring in zip(result.ring_ids, result.rings, strict=True)}
    figures = evaluate(truth, rings, scores, config.alert_threshold)
    out["quality"] = figures.model_dump()
    reference_rings = rings_from_membership(ids, [int(m) if sizes[m] >= config.min_ring_size
                                                  else -1 for m in reference])
    ref = evaluate(truth, reference_rings, {}, config.alert_threshold)
    out["bare_leiden_quality"] = {"recovery": ref.recovery,
                                  "mean_best_jaccard": ref.mean_best_jaccard}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--seeds", default="7", help="comma-separated seeds")
    parser.add_argument("--work", type=Path, default=Path("var/bench-rings"))
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--incremental", type=int, default=200,
                        help="applications scored incrementally")
    parser.add_argument("--no-repayments", action="store_true",
                        help="skip the repayments table (faster load; no first-payment "
                             "defaults as evidence)")
    parser.add_argument("--reuse", action="store_true",
                        help="detect on what is loaded already (skip generate and load)")
    parser.add_argument("--loaded", type=Path, default=None, metavar="DIR",
                        help="measure the database as loaded (never wiped) from the portfolio "
                             "folder DIR, whose truth/ is the ground truth; no generation")
    parser.add_argument("--quality-only", action="store_true")
    parser.add_argument("--tile", type=int, default=1,
                        help="also time the in-memory steps on this many copies of the graph")
    args = parser.parse_args()
    configure("WARNING")  # keep stdout to the JSON lines
    server.start(get_settings())
    if args.loaded:
        read_truth(args.loaded)  # fail before the run, not after it
        print(json.dumps(run_seed(args, None)), flush=True)
        return
    for seed in (int(s) for s in args.seeds.split(",")):
        print(json.dumps(run_seed(args, seed)), flush=True)


if __name__ == "__main__":
    main()
