"""Where a lone submission's time goes: each statement of the decision's transaction, the
rest (Python, BEGIN and COMMIT), and the client's CPU.

    set -a; . var/shared-1m.env; set +a        # the shared 1M-application graph
    flock /tmp/fraudgraph-heavy.lock .venv/bin/python -m benchmarks.decision --submissions 150

Against the configured, loaded Neo4j, in this process: fresh applications (generated and
renamed as ``benchmarks.api`` does) are decided one at a time by
``lifecycle.decision.submit_application`` with the scorers the API runs (the ring scorer
and the GNN champion, if one is promoted), a pause between them so that each is alone, as
a submission is below saturation. The first ``--warmup`` are not counted. Reference in the
same run: a ``RETURN 1`` read through the same runner (BEGIN, RUN, COMMIT), one at a time.
The applications and their audit events are removed at the end.

``--plans`` also reports how often Neo4j planned each of the decision's statements during
the measured submissions (``db.stats``, which keeps the last 100 calls of each
statement): a call whose compilation took over 5 ms counts as a plan, a cache hit takes
well under one.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.api import CLEANUP, CLEANUP_AUDIT, PREFIX, fresh_rows
from fraudgraph.logs import configure
from fraudgraph.settings import get_settings
from graph.privacy import Pseudonymiser
from graph.runner import Query, QueryRunner, Transaction
from lifecycle.context import Lifecycle
from lifecycle.decision import submit_application
from lifecycle.scorers import default_scorers

RETURN_1 = Query("bench.decision.return_1", "RETURN 1 AS one")
STATS_RESTART = (Query("bench.decision.stats_clear", "CALL db.stats.clear('QUERIES')"),
                 Query("bench.decision.stats_collect", "CALL db.stats.collect('QUERIES')"))
STATS = Query("bench.decision.stats",
              "CALL db.stats.retrieve('QUERIES') YIELD data "
              "RETURN data.query AS query, data.invocations AS invocations")
#: A compilation that takes longer than this was a plan, not a cache hit (which takes
#: tens to hundreds of microseconds on this machine).
PLANNED_US = 5_000


@contextmanager
def timed_statements(names: dict[str, str] | None = None
                     ) -> Iterator[dict[str, list[float]]]:
    """Wall time of every statement run in an explicit transaction, by query name; each
    statement's text goes into ``names`` (text to name)."""
    walls: dict[str, list[float]] = defaultdict(list)
    original = Transaction._rows

    def timed(self: Transaction, query: Query, params: dict[str, Any],
              convert: Callable[..., Any]) -> list[dict[str, Any]]:
        started = time.perf_counter()
        try:
            return original(self, query, params, convert)
        finally:
            walls[query.name].append(time.perf_counter() - started)
            if names is not None:
                names[query.text] = query.name

    Transaction._rows = timed  # type: ignore[method-assign]
    try:
        yield walls
    finally:
        Transaction._rows = original  # type: ignore[method-assign]


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50_ms": round(ordered[len(ordered) // 2] * 1e3, 2),
            "p95_ms": round(ordered[int(len(ordered) * 0.95)] * 1e3, 2),
            "mean_ms": round(statistics.fmean(ordered) * 1e3, 2)}


def _decide(ctx: Lifecycle, rows: list[dict[str, str]], pause: float
            ) -> tuple[list[float], list[float], dict[str, list[float]]]:
    """Wall and CPU seconds of each submission, and the wall seconds by tier."""
    walls: list[float] = []
    cpus: list[float] = []
    tiers: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        wall, cpu = time.perf_counter(), time.thread_time()
        decision = submit_application(ctx, row)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.thread_time() - cpu)
        tiers[str(decision.tier)].append(walls[-1])
        time.sleep(pause)
    return walls, cpus, tiers


def plans(runner: QueryRunner, names: dict[str, str], since_ms: int) -> list[dict[str, Any]]:
    """Per statement of the decision: the calls ``db.stats`` kept since ``since_ms``, how
    many of them Neo4j planned and the planning time. Neo4j caches a plan per text and
    parameter types, so one statement can have several entries: they are added up."""
    calls: dict[str, list[int]] = defaultdict(list)
    for row in runner.read(STATS):
        name = names.get(row["query"])
        if name is not None:
            calls[name] += [c["elapsedCompileTimeInUs"] for c in row["invocations"] or []
                            if c["startTimestampMillis"] >= since_ms]
    out = []
    for name, compiles in calls.items():
        planned = [us for us in compiles if us > PLANNED_US]
        out.append({"plans_of": name, "calls_kept": len(compiles), "planned": len(planned),
                    "planning_ms": round(sum(planned) / 1e3, 1),
                    "worst_plan_ms": round(max(planned, default=0) / 1e3, 1)})
    return sorted(out, key=lambda line: (-line["planning_ms"], line["plans_of"]))


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    settings = get_settings()
    rows = fresh_rows(settings, args.submissions + args.warmup, args.seed, args.work)
    pseudo = Pseudonymiser(settings.hash_key.get_secret_value(),
                           settings.encryption_key.get_secret_value())
    out: list[dict[str, Any]] = []
    with QueryRunner.from_settings(settings) as runner:
        ctx = Lifecycle(runner=runner, pseudo=pseudo, scorers=default_scorers(settings))
        try:
            _decide(ctx, rows[:args.warmup], args.pause)
            pings = []
            for _ in range(args.submissions):
                started = time.perf_counter()
                runner.read(RETURN_1)
                pings.append(time.perf_counter() - started)
            if args.plans:
                for query in STATS_RESTART:
                    runner.write(query)
            names: dict[str, str] = {}
            since_ms = time.time_ns() // 1_000_000
            with timed_statements(names) as statements:
                walls, cpus, tiers = _decide(ctx, rows[args.warmup:], args.pause)
            count = len(walls)
            in_statements = sum(sum(v) for v in statements.values()) / count
            out.append({"phase": "lone submissions", "submissions": count,
                        "wall": _ms(walls), "client_cpu": _ms(cpus),
                        "statements_ms_per_submission": round(in_statements * 1e3, 2),
                        "rest_ms_per_submission": round(
                            (statistics.fmean(walls) - in_statements) * 1e3, 2),
                        "by_tier": {tier: {"submissions": len(values), **_ms(values)}
                                    for tier, values in sorted(tiers.items())},
                        "reference_return_1": _ms(pings)})
            for name, values in sorted(statements.items(), key=lambda kv: -sum(kv[1])):
                out.append({"statement": name, "per_submission": round(len(values) / count, 2),
                            "ms_per_submission": round(sum(values) / count * 1e3, 2),
                            **_ms(values)})
            if args.plans:
                out.extend(plans(runner, names, since_ms))
        finally:
            while runner.write(CLEANUP, prefix=PREFIX)[0]["n"]:
                pass
            while runner.write(CLEANUP_AUDIT, prefix=PREFIX)[0]["n"]:
                pass
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=150)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between two")
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--plans", action="store_true",
                        help="also count Neo4j's plans of each statement (db.stats)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bench-decision")
    args = parser.parse_args()
    configure("WARNING")
    for line in run(args):
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
