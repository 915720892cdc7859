"""Ingest throughput and loader memory, against a plain UNWIND ... CREATE reference.

    .venv/bin/python -m benchmarks.ingest --applications 100000 --applications 1000000

For each size: generate a portfolio (dealers, applications, labels; repayments only with
--repayments), load it with `fraudgraph ingest` into an empty database, then, into another
empty database, write the same validated rows with plain `UNWIND ... CREATE` statements
(no MERGE, no constraints, no look-ups): the cost floor of writing the same data. Each
load runs in a child process so its peak RSS is the loader's own. The benchmark Neo4j
has its own port and store (var/bench-neo4j) and is wiped between loads.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from fraudgraph.memory import peak_rss_mib
from fraudgraph.settings import REPO_ROOT, Settings
from graph import server
from graph.privacy import Pseudonymiser, new_key
from graph.runner import Query, QueryRunner
from graph.schema import LINKS

BENCH_PORT = 7694
PASSWORD = "fraudgraph-bench-password"


def bench_settings(keys: tuple[str, str]) -> Settings:
    return Settings(neo4j_uri=None, neo4j_password=PASSWORD, neo4j_port=BENCH_PORT,
                    neo4j_heap="4g", neo4j_pagecache="4g",
                    neo4j_home=REPO_ROOT / "var" / "bench-neo4j",
                    var_dir=REPO_ROOT / "var" / "bench",
                    hash_key=keys[0], encryption_key=keys[1])


def fresh_database(settings: Settings) -> None:
    server.stop(settings)
    shutil.rmtree(settings.neo4j_home_dir / "home", ignore_errors=True)
    server.start(settings)


def portfolio(size: int, seed: int, repayments: bool) -> Path:
    from synthetic import generate_portfolio

    folder = REPO_ROOT / "var" / "bench" / f"portfolio-{size}-{seed}"
    if not (folder / "applications.csv").exists():
        started = time.monotonic()
        generate_portfolio(folder, applications=size, seed=seed)
        print(f"generated {size:,} applications in {time.monotonic() - started:.1f}s")
    load = folder.parent / f"{folder.name}-load{'-rep' if repayments else ''}"
    if not load.exists():
        load.mkdir()
        tables = ["dealers", "applications", "labels"] + (["repayments"] if repayments else [])
        for table in tables:
            (load / f"{table}.csv").symlink_to(folder / f"{table}.csv")
    return load


# ------------------------------------------------------------------ children


def child_ingest(folder: Path, keys: tuple[str, str]) -> dict[str, object]:
    from ingest.pipeline import ingest_folder

    settings = bench_settings(keys)
    pseudo = Pseudonymiser(*keys)
    started = time.monotonic()
    with QueryRunner.from_settings(settings) as runner:
        report = ingest_folder(folder, runner, pseudo, settings.var_dir / "ingest",
                               batch_size=settings.ingest_batch_size)
    return {"seconds": time.monotonic() - started,
            "applications": report.tables["applications"].loaded,
            "relationships": report.relationships_created,
            "quarantined": report.quarantined}


def _reference_link(index: int) -> Query:
    link = LINKS[index]
    return Query(f"bench.create_{link.rel.value}",
                 f"UNWIND $rows AS r MATCH (a:Application) WHERE elementId(a) = r.id "
                 f"CREATE (a)-[:{link.rel.value}]->(:{link.kind.label.value} {{key: r.key}})")


REFERENCE_APPS = Query("bench.create_applications",
                       "UNWIND $rows AS r CREATE (a:Application) SET a = r.props "
                       "RETURN elementId(a) AS id")


def child_reference(folder: Path, keys: tuple[str, str], batch: int) -> dict[str, object]:
    """Validate rows a batch at a time (not timed), then time plain CREATE writes of them;
    streaming, so the reference's memory stays flat like the loader's."""
    from ingest.readers import find_tables, iter_rows
    from ingest.records import Record, to_application

    pseudo = Pseudonymiser(*keys)
    files, _ = find_tables(folder)
    apps = next(f for f in files if f.table.name == "applications")

    def batches() -> Iterator[list[Record]]:
        chunk: list[Record] = []
        for _, raw in iter_rows(apps):
            try:
                chunk.append(to_application(raw, pseudo, date.today()))
            except ValueError:
                continue
            if len(chunk) == batch:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    links = [_reference_link(i) for i in range(len(LINKS))]
    settings = bench_settings(keys)
    relationships = applications = 0
    seconds = 0.0
    with QueryRunner.from_settings(settings) as runner:
        for chunk in batches():
            started = time.monotonic()
            relationships += _write_reference(runner, chunk, links)
            seconds += time.monotonic() - started
            applications += len(chunk)
    return {"seconds": seconds, "applications": applications, "relationships": relationships}


def _write_reference(runner: QueryRunner, chunk: list[Any], links: list[Query]) -> int:
    relationships = 0
    with runner.transaction() as tx:
        ids = tx.run(REFERENCE_APPS, rows=[
            {"props": {"application_id": r.key, **{k: v for k, v in r.props.items()
                                                   if v is not None}}} for r in chunk])
        by_link: dict[int, list[dict[str, object]]] = {}
        for record, row in zip(chunk, ids, strict=True):
            for ref in record.identifiers:
                by_link.setdefault(LINKS.index(ref.link), []).append(
                    {"id": row["id"], "key": ref.key})
        for index, rows in by_link.items():
            tx.run(links[index], rows=rows)
            relationships += len(rows)
    return relationships


def run_child(mode: str, folder: Path, keys: tuple[str, str], batch: int) -> dict[str, object]:
    cmd = [sys.executable, "-m", "benchmarks.ingest", "--child", mode, "--folder", str(folder),
           "--keys", keys[0], keys[1], "--batch", str(batch)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applications", type=int, action="append")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--repayments", action="store_true")
    parser.add_argument("--child", choices=["ingest", "reference"])
    parser.add_argument("--folder", type=Path)
    parser.add_argument("--keys", nargs=2)
    args = parser.parse_args()
    if args.child:
        work = child_ingest if args.child == "ingest" else None
        result = (work(args.folder, tuple(args.keys)) if work else
                  child_reference(args.folder, tuple(args.keys), args.batch))
        result["peak_rss_mib"] = peak_rss_mib()
        print(json.dumps(result))
        return
    keys = (new_key(), new_key())
    settings = bench_settings(keys)
    rows = []
    try:
        for size in args.applications or [100_000]:
            folder = portfolio(size, args.seed, args.repayments)
            fresh_database(settings)
            ours = run_child("ingest", folder, keys, args.batch)
            fresh_database(settings)
            ref = run_child("reference", folder, keys, args.batch)
            rows.append((size, ours, ref))
            _print(rows)
    finally:
        server.stop(settings)


def _print(rows: list[tuple[int, dict[str, object], dict[str, object]]]) -> None:
    print(f"\n{'size':>9} {'what':<10} {'seconds':>8} {'apps/s':>8} {'rels/s':>8} "
          f"{'peak MiB':>9} {'x ref':>6}")
    for size, ours, ref in rows:
        for name, r in (("ingest", ours), ("reference", ref)):
            seconds = float(r["seconds"])  # type: ignore[arg-type]
            ratio = seconds / float(ref["seconds"])  # type: ignore[arg-type]
            print(f"{size:>9,} {name:<10} {seconds:8.1f} "
                  f"{int(r['applications']) / seconds:8.0f} "  # type: ignore[call-overload]
                  f"{int(r['relationships']) / seconds:8.0f} "  # type: ignore[call-overload]
                  f"{float(r['peak_rss_mib']):9.0f} {ratio:6.2f}")  # type: ignore[arg-type]
    sys.stdout.flush()


if __name__ == "__main__":
    main()
