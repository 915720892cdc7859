"""Ingest throughput and loader memory, against a plain UNWIND ... CREATE reference.

    .venv/bin/python -m benchmarks.ingest --applications 100000 --applications 1000000

For each size: generate a portfolio (dealers, applications, labels; repayments only with
--repayments), load it with `fraudgraph ingest` into an empty database, then, into another
empty database, write the same validated rows with plain `UNWIND ... CREATE` statements
(no MERGE, no constraints, no look-ups): the cost floor of writing the same data. Each
load runs in a child process so its peak RSS is the loader's own; "tree MiB" is the
peak of the child and its validation worker processes together, sampled every 0.2 s.
"cpu s" are the CPU seconds the loader (with its workers) and the Neo4j server used
during the load: work done, which other jobs on a shared machine disturb less than
elapsed time. The benchmark Neo4j has its own port and store (var/bench-neo4j) and is
wiped between loads.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psutil

from fraudgraph.memory import peak_rss_mib
from fraudgraph.settings import REPO_ROOT, Settings
from graph import server
from graph.privacy import Pseudonymiser, new_key
from graph.runner import Query, QueryRunner, Transaction
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
    load.mkdir(exist_ok=True)
    tables = ["dealers", "applications", "labels"] + (["repayments"] if repayments else [])
    for table in tables:
        link = load / f"{table}.csv"
        if not link.exists():  # absent, or left dangling by a moved tree
            link.unlink(missing_ok=True)
            link.symlink_to(Path("..") / folder.name / f"{table}.csv")  # relative: movable
    return load


# ------------------------------------------------------------------ children


def child_ingest(folder: Path, keys: tuple[str, str], batch: int,
                 workers: int | None, bulk: bool = False) -> dict[str, object]:
    from ingest.bulk import BulkTarget
    from ingest.pipeline import ingest_folder

    settings = bench_settings(keys)
    pseudo = Pseudonymiser(*keys)
    options: dict[str, object] = {} if workers is None else {"workers": workers}
    if bulk:
        options["bulk"] = BulkTarget(settings)
    started = time.monotonic()
    with QueryRunner.from_settings(settings) as runner:
        report = ingest_folder(folder, runner, pseudo, settings.var_dir / "ingest",
                               batch_size=batch, **options)
    return {"seconds": time.monotonic() - started,
            "applications": report.tables["applications"].loaded,
            "relationships": report.relationships_created,
            "quarantined": report.quarantined,
            "steps": report.steps}


def _reference_link(index: int, full: bool = False) -> Query:
    link = LINKS[index]
    node = f"(n:{link.kind.label.value}) SET n = r.props, n.key = r.key" if full else (
        f"(:{link.kind.label.value} {{key: r.key}})")
    return Query(f"bench.create_{link.rel.value}",
                 f"UNWIND $rows AS r MATCH (a:Application) WHERE elementId(a) = r.id "
                 f"CREATE (a)-[:{link.rel.value}]->{node}")


# The "full" reference also writes what the loader writes beyond identifier keys: the
# identifier nodes' properties (masked and encrypted values) and each application's links
# to its dealer and sales agent (a new node per link: still no look-ups).
REFERENCE_DEALERS = Query("bench.create_dealer_links",
                          "UNWIND $rows AS r MATCH (a:Application) WHERE elementId(a) = r.id "
                          "CREATE (a)-[:SUBMITTED_VIA]->(:Dealer {dealer_id: r.dealer})")
REFERENCE_AGENTS = Query("bench.create_agent_links",
                         "UNWIND $rows AS r MATCH (a:Application) WHERE elementId(a) = r.id "
                         "CREATE (a)-[:HANDLED_BY]->(:SalesAgent {agent_id: r.agent})")


REFERENCE_APPS = Query("bench.create_applications",
                       "UNWIND $rows AS r CREATE (a:Application) SET a = r.props "
                       "RETURN elementId(a) AS id")


def child_reference(folder: Path, keys: tuple[str, str], batch: int,
                    full: bool = False) -> dict[str, object]:
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

    links = [_reference_link(i, full) for i in range(len(LINKS))]
    settings = bench_settings(keys)
    relationships = applications = 0
    seconds = 0.0
    with QueryRunner.from_settings(settings) as runner:
        for chunk in batches():
            started = time.monotonic()
            relationships += _write_reference(runner, chunk, links, full)
            seconds += time.monotonic() - started
            applications += len(chunk)
    return {"seconds": seconds, "applications": applications, "relationships": relationships}


def _write_reference(runner: QueryRunner, chunk: list[Any], links: list[Query],
                     full: bool = False) -> int:
    relationships = 0
    with runner.transaction() as tx:
        ids = tx.run(REFERENCE_APPS, rows=[
            {"props": {"application_id": r.key, **{k: v for k, v in r.props.items()
                                                   if v is not None}}} for r in chunk])
        by_link: dict[int, list[dict[str, object]]] = {}
        for record, row in zip(chunk, ids, strict=True):
            for ref in record.identifiers:
                by_link.setdefault(LINKS.index(ref.link), []).append(
                    {"id": row["id"], "key": ref.key, "props": ref.props})
        for index, rows in by_link.items():
            tx.run(links[index], rows=rows)
            relationships += len(rows)
        if full:
            relationships += _write_reference_dealers(tx, chunk, ids)
    return relationships


def _write_reference_dealers(tx: Transaction, chunk: list[Any],
                             ids: list[dict[str, Any]]) -> int:
    pairs = list(zip(chunk, ids, strict=True))
    dealers = [{"id": row["id"], "dealer": r.props["dealer_id"]} for r, row in pairs]
    agents = [{"id": row["id"], "agent": r.props["sales_agent_id"]}
              for r, row in pairs if r.props.get("sales_agent_id")]
    tx.run(REFERENCE_DEALERS, rows=dealers)
    tx.run(REFERENCE_AGENTS, rows=agents)
    return len(dealers) + len(agents)


def _server_cpu(settings: Settings) -> float:
    status = server.status(settings)
    if status.pid is None:
        return 0.0
    times = psutil.Process(status.pid).cpu_times()
    return float(times.user + times.system)


def run_child(mode: str, folder: Path, keys: tuple[str, str], batch: int,
              settings: Settings, workers: int | None = None,
              bulk: bool = False) -> dict[str, object]:
    cmd = [sys.executable, "-m", "benchmarks.ingest", "--child", mode, "--folder", str(folder),
           "--keys", keys[0], keys[1], "--batch", str(batch)]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    if bulk:
        cmd.append("--bulk")
    server_before = _server_cpu(settings)
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as child:
        watch = _TreeWatch(child.pid, settings.neo4j_home_dir / "neo4j.pid")
        watch.start()
        out, err = child.communicate()
        watch.stop()
    if child.returncode:
        raise RuntimeError(f"{mode} child failed ({child.returncode}):\n{err[-4000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["tree_peak_mib"] = watch.mib
    result["loader_cpu_s"] = sum(watch.cpu.values())
    # A bulk load stops the server and starts a new one: count what each process used.
    result["server_cpu_s"] = sum(watch.server_cpu.values()) - server_before
    return result


class _TreeWatch(threading.Thread):
    """Peak resident memory of a process and all its descendants together, and the CPU
    seconds each used (as last seen), sampled."""

    def __init__(self, pid: int, server_pid_file: Path) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.server_pid_file = server_pid_file
        self.mib = 0.0
        self.cpu: dict[int, float] = {}
        self.server_cpu: dict[int, float] = {}
        self._done = threading.Event()

    def _sample_server(self) -> None:
        try:
            pid = int(self.server_pid_file.read_text().strip())
            times = psutil.Process(pid).cpu_times()
        except (OSError, ValueError, psutil.Error):
            return
        self.server_cpu[pid] = times.user + times.system

    def run(self) -> None:
        self._sample_server()
        while not self._done.wait(0.2):
            self._sample_server()
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                return
            total = 0
            for proc in procs:
                try:
                    with proc.oneshot():
                        total += proc.memory_info().rss
                        times = proc.cpu_times()
                except psutil.Error:
                    continue
                self.cpu[proc.pid] = times.user + times.system
            self.mib = max(self.mib, total / (1 << 20))

    def stop(self) -> None:
        self._done.set()
        self.join()
        self._sample_server()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applications", type=int, action="append")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--workers", type=int,
                        help="validation processes (0: in the loader); default: ingest's (0)")
    parser.add_argument("--repayments", action="store_true")
    parser.add_argument("--bulk", action="store_true",
                        help="load with `ingest --bulk` (the offline importer; workers "
                             "default to 2 there)")
    parser.add_argument("--full-reference", action="store_true",
                        help="also time the reference that writes identifier properties "
                             "and dealer and agent links (ratio to it in 'x full')")
    parser.add_argument("--child", choices=["ingest", "reference", "reference-full"])
    parser.add_argument("--folder", type=Path)
    parser.add_argument("--keys", nargs=2)
    args = parser.parse_args()
    if args.child:
        keys = tuple(args.keys)
        result = (child_ingest(args.folder, keys, args.batch, args.workers, args.bulk)
                  if args.child == "ingest" else
                  child_reference(args.folder, keys, args.batch, args.child == "reference-full"))
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
            workers = 2 if args.bulk and args.workers is None else args.workers
            ours = run_child("ingest", folder, keys, args.batch, settings, workers, args.bulk)
            print(json.dumps({"size": size, "ingest_steps_s": ours.get("steps")}))
            fresh_database(settings)
            ref = run_child("reference", folder, keys, args.batch, settings)
            full = None
            if args.full_reference:
                fresh_database(settings)
                full = run_child("reference-full", folder, keys, args.batch, settings)
            rows.append((size, ours, ref, full))
            _print(rows)
    finally:
        server.stop(settings)


Result = dict[str, Any]


def _print(rows: list[tuple[int, Result, Result, Result | None]]) -> None:
    print(f"\n{'size':>9} {'what':<14} {'seconds':>8} {'apps/s':>8} {'rels/s':>8} "
          f"{'peak MiB':>9} {'tree MiB':>9} {'x ref':>6} {'x full':>6} {'cpu s':>6} "
          f"{'neo4j cpu s':>11}")
    for size, ours, ref, full in rows:
        named = [("ingest", ours), ("reference", ref)] + ([("reference-full", full)]
                                                         if full else [])
        for name, r in named:
            seconds = float(r["seconds"])
            versus_full = f"{seconds / float(full['seconds']):6.2f}" if full else f"{'':6}"
            print(f"{size:>9,} {name:<14} {seconds:8.1f} "
                  f"{int(r['applications']) / seconds:8.0f} "
                  f"{int(r['relationships']) / seconds:8.0f} "
                  f"{float(r['peak_rss_mib']):9.0f} {float(r['tree_peak_mib']):9.0f} "
                  f"{seconds / float(ref['seconds']):6.2f} {versus_full} "
                  f"{float(r['loader_cpu_s']):6.1f} {float(r['server_cpu_s']):11.1f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
