"""Replay a generated portfolio in time order through the decision path (issue 5).

    .venv/bin/python -m benchmarks.replay --applications 10000 --seed 7 --preload 0.5

Generates a portfolio with ground truth (or reuses --export), starts a scratch Neo4j of its
own (port --port, store var/replay-neo4j-PORT, wiped first), loads the older --preload
share with ingest (with the labels and repayments known at the cut-off), submits the rest
one by one through `lifecycle.decision.submit_application`, and prints the figures: the
share of fraud and of honest applications sent to B or C, per fraud ring how many were
approved before the ring was caught (its first B/C member), decision latency p50/p95.
--scorers adds the ring and GNN adapters (they report "unavailable" when their package or
champion model is missing). `fraudgraph replay` does the same against the configured
database.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from fraudgraph.logs import configure
from fraudgraph.settings import REPO_ROOT, Settings
from graph import server
from graph.privacy import Pseudonymiser, new_key
from graph.runner import QueryRunner
from lifecycle.replay import replay
from lifecycle.scorers import default_scorers, ring_detector
from synthetic import generate_portfolio

PASSWORD = "fraudgraph-replay-password"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--preload", type=float, default=0.5)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--export", type=Path, default=None)
    parser.add_argument("--port", type=int, default=7700)
    parser.add_argument("--scorers", action="store_true")
    parser.add_argument("--review", action="store_true",
                        help="close every tier-B case at once with the true disposition")
    parser.add_argument("--detect-every", type=int, default=0,
                        help="with --scorers: run full ring detection after the preload and "
                             "every N submissions (0: never)")
    parser.add_argument("--report", type=Path, default=None)
    parser.add_argument("--keep-server", action="store_true")
    args = parser.parse_args()
    configure("INFO")

    work = REPO_ROOT / "var" / "replay"
    export = args.export or work / f"export-{args.applications}-{args.seed}"
    if args.export is None and not (export / "truth" / "applications.csv").exists():
        generate_portfolio(export, applications=args.applications, seed=args.seed)
    home = REPO_ROOT / "var" / f"replay-neo4j-{args.port}"
    settings = Settings(neo4j_uri=None, neo4j_password=PASSWORD, neo4j_port=args.port,
                        neo4j_heap="2g", neo4j_pagecache="1g", neo4j_home=home,
                        var_dir=work, hash_key=new_key(), encryption_key=new_key())
    server.start(settings)
    try:
        pseudo = Pseudonymiser(settings.hash_key.get_secret_value(),
                               settings.encryption_key.get_secret_value())
        with QueryRunner.from_settings(settings) as runner:
            run_dir = work / f"run-{args.applications}-{args.seed}"
            shutil.rmtree(run_dir, ignore_errors=True)
            report = replay(runner, pseudo, export, run_dir, preload=args.preload,
                            scorers=default_scorers(settings) if args.scorers else (),
                            wipe=True, limit=args.limit,
                            detector=ring_detector(settings)
                            if args.scorers and args.detect_every else None,
                            detect_every=args.detect_every or 1000, review=args.review)
    finally:
        if not args.keep_server:
            server.stop(settings)
    data = report.model_dump(mode="json")
    if args.report:
        args.report.write_text(json.dumps(data, indent=2, ensure_ascii=False),
                               encoding="utf-8")
    rings = data.pop("rings")
    data["rings_summary"] = [
        f"{r['group_id']} {r['kind']}: {r['replayed']} replayed, "
        f"{r['approved_before_caught']} approved before caught, "
        f"{'caught' if r['caught'] else 'NOT caught'}" for r in rings]
    print(json.dumps(data, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
