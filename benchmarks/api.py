"""Submit-and-decide through the API under concurrent clients, and a soak.

    set -a; . var/shared-1m.env; set +a        # the shared 1M-application graph
    flock /tmp/fraudgraph-heavy.lock .venv/bin/python -m benchmarks.api \
        --clients 20 --requests 1000 --duration 120 --soak 600

Against the configured Neo4j (it must be running and loaded: nothing is started or wiped),
it serves the API with uvicorn in a child process (``--workers``), signs a token, and
submits fresh applications (a portfolio generated with ``--seed``, ids prefixed so they are
new, rows that fail the contract dropped first) to ``POST /v1/applications``:

* reference: a bare Bolt ``RETURN 1`` from this same client process, one at a time and
  at the same concurrency, measured in the same run;
* closed loop: ``--clients`` clients, each sending its next request when the last one
  answered, ``--requests`` in all;
* open loop: arrivals at a steady ``--rate`` per second (by default half of what the
  closed loop sustained) for ``--duration`` seconds, latency counted from the scheduled
  arrival (a slow answer does not delay the next arrival, so queueing shows);
* ``--soak S``: then the open loop for S seconds, with the server's resident memory (all
  its processes) sampled every ``--sample`` seconds; errors must be zero, memory flat.

Figures: p50/p95/p99/max in ms, throughput, non-201 answers by status, which risk signals
were available in the decisions (ring, GNN), the CPU milliseconds per request spent by
the server, by Neo4j (when it is the project's own, its pid known) and by this client,
and the 1-minute load average at the end of the phase. One JSON line per phase, and
``--report``. Submitted applications stay in the graph (tier, case, audit), unless
``--cleanup``, which also removes their audit events.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import neo4j
import psutil

from fraudgraph.settings import REPO_ROOT, Settings, get_settings
from graph import server as neo4j_server
from graph.privacy import Pseudonymiser
from graph.runner import Query, QueryRunner
from ingest import records
from ingest.errors import RowError

PREFIX = "BENCH"
#: Upper bound of an automatic open-loop rate (arrivals/s), to size the input.
MAX_AUTO_RATE = 40.0
CLEANUP = Query(
    "bench.api.cleanup",
    """
    MATCH (a:Application) WHERE a.application_id STARTS WITH $prefix
    WITH a LIMIT 500
    OPTIONAL MATCH (a)-[:HAS_DECISION|HAS_TRANSITION|HAS_INSTALLMENT]->(own)
    OPTIONAL MATCH (c:Case {application_id: a.application_id})
    DETACH DELETE own, c, a
    RETURN count(DISTINCT a) AS n
    """,
)


CLEANUP_AUDIT = Query(
    "bench.api.cleanup_audit",
    """
    MATCH (e:AuditEvent)
    WHERE e.target STARTS WITH $prefix OR e.target STARTS WITH 'CASE-' + $prefix
    WITH e LIMIT 10000
    DELETE e
    RETURN count(e) AS n
    """,
)


def server_app() -> Any:
    """The app uvicorn serves (``--factory``): settings from the environment."""
    from api.main import create_app
    from fraudgraph.logs import configure

    configure("WARNING")
    return create_app(get_settings())


# ----------------------------------------------------------------------------- input


def fresh_rows(settings: Settings, count: int, seed: int, work: Path) -> list[dict[str, str]]:
    """``count`` applications from a generated portfolio, renamed so they are new to the
    graph, dropping rows the contract refuses (the generator writes some on purpose)."""
    from synthetic import generate_portfolio

    folder = work / f"portfolio-{count}-{seed}"
    if not (folder / "applications.csv").exists():
        generate_portfolio(folder, applications=int(count * 1.1) + 100, seed=seed)
    pseudo = Pseudonymiser(settings.hash_key.get_secret_value(),
                           settings.encryption_key.get_secret_value())
    tag = secrets.token_hex(3).upper()
    today = datetime.now(UTC).date()
    rows = []
    with (folder / "applications.csv").open(encoding="utf-8") as handle:
        for n, row in enumerate(csv.DictReader(handle)):
            row["application_id"] = f"{PREFIX}{tag}{n:07d}"
            clean = {k: (v if v not in ("", None) else None) for k, v in row.items()}
            try:
                records.to_application(clean, pseudo, today)
            except RowError:
                continue
            rows.append({k: v for k, v in row.items() if v not in ("", None)})
            if len(rows) == count:
                break
    return rows


# ----------------------------------------------------------------------------- server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(workers: int, log: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """uvicorn in a child process; returns it, its base URL and the JWT secret it uses."""
    port = _free_port()
    env = dict(os.environ)
    secret = env.get("FRAUDGRAPH_JWT_SECRET") or secrets.token_urlsafe(48)
    env["FRAUDGRAPH_JWT_SECRET"] = secret
    command = [sys.executable, "-m", "uvicorn", "benchmarks.api:server_app", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
               "--no-access-log", "--log-level", "warning",
               # The server keeps an idle connection longer than the client does, so the
               # client never reuses one the server is closing at that moment.
               "--timeout-keep-alive", "30"]
    handle = log.open("wb")
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=handle, stderr=handle)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API server exited with {process.returncode}; see {log}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return process, url, secret
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.terminate()
    raise RuntimeError(f"the API server did not answer /health in 180 s; see {log}")


class CpuMeter:
    """CPU seconds spent by the API server (all its processes), Neo4j (when it is the
    project's own server, so its pid is known) and this client, to put a CPU cost on
    each request beside its latency."""

    def __init__(self, server: subprocess.Popen[bytes] | None, neo4j_pid: int | None):
        self.server = server
        self.neo4j = _process(neo4j_pid)

    def read(self) -> tuple[float, float, float]:
        server = float("nan")
        if self.server is not None and (parent := _process(self.server.pid)) is not None:
            server = sum(_cpu(p) for p in [parent, *parent.children(recursive=True)])
        neo = _cpu(self.neo4j) if self.neo4j is not None else float("nan")
        return server, neo, time.process_time()

    def per_request(self, before: tuple[float, float, float], requests: int) -> dict[str, Any]:
        after = self.read()
        names = ("server", "neo4j", "client")
        figures = {f"{name}_cpu_ms_per_request": round(1000 * (b - a) / requests, 2)
                   for name, a, b in zip(names, before, after, strict=True)
                   if requests and b == b and a == a}  # NaN: not measurable
        return figures | {"loadavg_1m": round(os.getloadavg()[0], 2)}


def _process(pid: int | None) -> psutil.Process | None:
    try:
        return psutil.Process(pid) if pid else None
    except psutil.NoSuchProcess:
        return None


def _cpu(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
        return float(times.user + times.system)
    except psutil.NoSuchProcess:
        return 0.0


def server_rss_mib(process: subprocess.Popen[bytes]) -> float:
    """Resident memory of the server and its worker processes."""
    try:
        parent = psutil.Process(process.pid)
        procs = [parent, *parent.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs) / 2**20
    except psutil.NoSuchProcess:
        return float("nan")


# ----------------------------------------------------------------------------- figures


def figures(name: str, latencies: list[float], seconds: float,
            statuses: Counter[int] | None = None, **extra: Any) -> dict[str, Any]:
    ordered = sorted(latencies)

    def pct(p: float) -> float | None:
        if not ordered:
            return None
        return round(1000 * ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)

    record: dict[str, Any] = {
        "phase": name, "requests": len(ordered), "seconds": round(seconds, 2),
        "throughput_per_s": round(len(ordered) / seconds, 1) if seconds else None,
        "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
        "max_ms": round(1000 * ordered[-1], 2) if ordered else None,
        "mean_ms": round(1000 * statistics.fmean(ordered), 2) if ordered else None}
    if statuses is not None:
        record["statuses"] = dict(sorted(statuses.items()))
        record["errors"] = sum(n for s, n in statuses.items() if s != 201)
    record.update(extra)
    print(json.dumps(record, ensure_ascii=False), flush=True)
    return record


# ----------------------------------------------------------------------------- phases


async def bolt_reference(settings: Settings, clients: int, rounds: int) -> list[dict[str, Any]]:
    """``RETURN 1`` over Bolt from this process: one at a time, then ``clients`` at once."""
    driver = neo4j.AsyncGraphDatabase.driver(
        settings.bolt_uri, auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
        max_connection_pool_size=max(clients, 10))

    async def once() -> float:
        started = time.perf_counter()
        await driver.execute_query("RETURN 1 AS one", database_=settings.neo4j_database)
        return time.perf_counter() - started

    try:
        for _ in range(50):  # warm the pool
            await once()
        started = time.perf_counter()
        single = [await once() for _ in range(rounds)]
        one = figures("bolt_return_1_sequential", single, time.perf_counter() - started)

        async def client(n: int) -> list[float]:
            return [await once() for _ in range(n)]

        started = time.perf_counter()
        parts = await asyncio.gather(*(client(rounds // clients) for _ in range(clients)))
        many = figures(f"bolt_return_1_x{clients}", [x for p in parts for x in p],
                       time.perf_counter() - started)
    finally:
        await driver.close()
    return [one, many]


class Submitter:
    """Posts applications and keeps what came back."""

    def __init__(self, http: httpx.AsyncClient, token: str, rows: list[dict[str, str]],
                 meter: CpuMeter | None = None):
        self.http = http
        self.meter = meter or CpuMeter(None, None)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.rows = iter(rows)
        self.statuses: Counter[int] = Counter()
        self.signals: Counter[str] = Counter()
        self.tiers: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.transport_errors: Counter[str] = Counter()

    def reset(self) -> None:
        self.statuses, self.signals, self.tiers, self.latencies = (
            Counter(), Counter(), Counter(), [])
        self.transport_errors = Counter()

    async def submit(self, started: float | None = None) -> None:
        row = next(self.rows)
        started = started if started is not None else time.perf_counter()
        try:
            response = await self.http.post("/v1/applications", json=row,
                                            headers=self.headers)
            status = response.status_code
        except httpx.HTTPError as exc:
            status = 599  # no answer at all
            self.transport_errors[type(exc).__name__] += 1
        self.latencies.append(time.perf_counter() - started)
        self.statuses[status] += 1
        if status == 201:
            body = response.json()
            self.tiers[str(body.get("tier"))] += 1
            for score in (body.get("signals") or {}).get("scores", []):
                if score.get("available"):
                    self.signals[score["source"]] += 1

    def extra(self) -> dict[str, Any]:
        return {"tiers": dict(self.tiers), "signals_available": dict(self.signals),
                "transport_errors": dict(self.transport_errors)}


async def closed_loop(sub: Submitter, clients: int, requests: int) -> dict[str, Any]:
    sub.reset()
    per_client = requests // clients

    async def client() -> None:
        for _ in range(per_client):
            await sub.submit()

    cpu = sub.meter.read()
    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return figures(f"submit_closed_loop_x{clients}", sub.latencies,
                   time.perf_counter() - started, sub.statuses, **sub.extra(),
                   **sub.meter.per_request(cpu, len(sub.latencies)))


async def open_loop(sub: Submitter, rate: float, duration: float, name: str,
                    sample: float = 0.0,
                    server: subprocess.Popen[bytes] | None = None) -> dict[str, Any]:
    """Arrivals every 1/rate seconds; latency from the scheduled arrival."""
    sub.reset()
    interval = 1.0 / rate
    tasks: set[asyncio.Task[None]] = set()
    memory: list[tuple[float, float]] = []
    in_flight_max = 0
    cpu = sub.meter.read()
    started = time.perf_counter()
    next_sample = started
    n = 0
    while (due := started + n * interval) < started + duration:
        now = time.perf_counter()
        if due > now:
            await asyncio.sleep(due - now)
        task = asyncio.create_task(sub.submit(started=due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        in_flight_max = max(in_flight_max, len(tasks))
        n += 1
        if sample and server is not None and time.perf_counter() >= next_sample:
            memory.append((round(time.perf_counter() - started, 1), server_rss_mib(server)))
            next_sample += sample
    await asyncio.gather(*tasks)
    extra = (sub.extra() | {"rate_per_s": rate, "max_in_flight": in_flight_max}
             | sub.meter.per_request(cpu, len(sub.latencies)))
    if memory:
        extra["server_rss_mib"] = _memory_summary(memory)
    return figures(name, sub.latencies, time.perf_counter() - started, sub.statuses, **extra)


def _memory_summary(samples: list[tuple[float, float]]) -> dict[str, Any]:
    """First, last, max, and the least-squares slope over the second half (MiB/min)."""
    values = [m for _, m in samples]
    half = samples[len(samples) // 2:]
    slope = None
    if len(half) >= 3:
        xs, ys = [t for t, _ in half], [m for _, m in half]
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        var = sum((x - mx) ** 2 for x in xs)
        slope = round(60 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
                      / var, 3) if var else None
    return {"first": round(values[0], 1), "last": round(values[-1], 1),
            "max": round(max(values), 1), "second_half_slope_mib_per_min": slope,
            "samples": [[t, round(m, 1)] for t, m in samples]}


# ----------------------------------------------------------------------------- main


async def run(args: argparse.Namespace, settings: Settings) -> list[dict[str, Any]]:
    from api.roles import Role
    from api.security import User, issue_token

    work = REPO_ROOT / "var" / "bench" / "api"
    work.mkdir(parents=True, exist_ok=True)
    soak = args.soak or 0
    rate_bound = args.rate if args.rate > 0 else MAX_AUTO_RATE
    needed = (args.warmup + args.requests + int(rate_bound * args.duration)
              + int(rate_bound * soak) + 50)
    rows = fresh_rows(settings, needed, args.seed, work)
    print(json.dumps({"phase": "input", "rows": len(rows), "needed": needed}), flush=True)
    results = await bolt_reference(settings, args.clients, args.bolt_rounds)
    server, url, secret = start_server(args.workers, work / "server.log")
    try:
        token = issue_token(User(username="bench.underwriter", role=Role.UNDERWRITER),
                            secret, 600)
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200,
                              keepalive_expiry=10)
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
            sub = Submitter(http, token, rows,
                            CpuMeter(server, neo4j_server.status(settings).pid))
            await closed_loop(sub, min(args.clients, args.warmup), args.warmup)  # warm-up
            results.append({"phase": "server_rss_after_warmup_mib",
                            "value": round(server_rss_mib(server), 1)})
            rate = args.rate
            if args.requests:
                closed = await closed_loop(sub, args.clients, args.requests)
                results.append(closed)
                if rate <= 0:  # auto: half of what the closed loop sustained
                    rate = min(MAX_AUTO_RATE, round(closed["throughput_per_s"] / 2, 1))
            if args.duration:
                results.append(await open_loop(sub, rate, args.duration,
                                               f"submit_open_loop_{rate}_per_s"))
            if soak:
                results.append(await open_loop(sub, rate, soak, f"soak_{soak}s_{rate}_per_s",
                                               args.sample, server))
            results += await bolt_reference(settings, args.clients, args.bolt_rounds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000,
                        help="closed-loop requests (0: none)")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="open-loop arrivals/s; 0: half the closed loop's throughput")
    parser.add_argument("--duration", type=float, default=120.0,
                        help="open-loop seconds (0: none)")
    parser.add_argument("--soak", type=int, default=0,
                        help="then a soak: open loop for this many seconds, server memory "
                             "sampled")
    parser.add_argument("--sample", type=float, default=10.0, help="soak memory sampling s")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--bolt-rounds", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1107)
    parser.add_argument("--report", type=Path, default=None)
    parser.add_argument("--cleanup", action="store_true",
                        help=f"afterwards, delete the {PREFIX}* applications and their "
                             "decisions, transitions and cases")
    args = parser.parse_args()
    settings = get_settings()
    with QueryRunner.from_settings(settings) as runner:
        runner.ping()
    results = asyncio.run(run(args, settings))
    if args.report:
        args.report.write_text(json.dumps(results, indent=1, ensure_ascii=False),
                               encoding="utf-8")
    if args.cleanup:
        with QueryRunner.from_settings(settings) as runner:
            while runner.write(CLEANUP, prefix=PREFIX)[0]["n"]:
                pass
            while runner.write(CLEANUP_AUDIT, prefix=PREFIX)[0]["n"]:
                pass


if __name__ == "__main__":
    main()
