"""Submit-and-decide through the API under concurrent clients, and a soak.

    set -a; . var/shared-1m.env; set +a        # the shared 1M-application graph
    flock /tmp/fraudgraph-heavy.lock .venv/bin/python -m benchmarks.api \
        --clients 20 --requests 1000 --duration 120 --think 500 --think 1000 --cleanup

Against the configured Neo4j (it must be running and loaded: nothing is started or wiped),
it serves the API with uvicorn in a child process (``--workers``; ``--loop`` and ``--http``
auto: uvloop and httptools, as ``fraudgraph serve``), signs a token, and submits fresh
applications (a portfolio generated with ``--seed``, ids prefixed so they are new, rows
that fail the contract dropped first) to ``POST /v1/applications``:

* reference: a bare Bolt ``RETURN 1`` from this same client process, one at a time and
  at the same concurrency, measured in the same run;
* closed loop: ``--clients`` clients, each sending its next request when the last one
  answered, ``--requests`` in all: the saturation throughput (twenty requests always in
  flight on two cores wait for each other, so its latency is queueing);
* open loop: arrivals at a steady ``--rate`` per second (by default half of what the
  closed loop sustained, at most 40/s) for ``--duration`` seconds, latency counted from
  the scheduled arrival (a slow answer does not delay the next arrival, so queueing
  shows); ``--no-open-loop`` skips it;
* ``--think MS`` (repeatable): ``--clients`` clients for ``--duration`` seconds, each
  pausing an exponential think time of mean MS (a seeded generator per client) between
  an answer and its next submission, the first pause drawn too so they do not start in
  step: how underwriters and dealer tablets submit. Latency from sending;
* ``--soak S``: then the open loop for S seconds, with the server's resident memory (all
  its processes) sampled every ``--sample`` seconds; errors must be zero, memory flat.
  ``timeline`` gives p50/p95/max and the machine's CPU steal per ``--sample`` window of
  arrivals, to place a tail in time (against steal, and Neo4j's debug.log: checkpoints,
  VM pauses). Every phase reports ``cpu_steal_pct``: the share of the machine's CPU time
  the hypervisor gave to other guests, 0-45 % on this virtual machine in one afternoon.

The server decides submissions that queue together in one transaction (``api.batching``);
``FRAUDGRAPH_API_BATCH_MAX=1`` in the environment makes it decide each alone, for a
comparison in the same session.

The load generator (``--client raw``, the default) writes HTTP/1.1 on keep-alive
connections with asyncio streams, one connection per request in flight: 0.2-0.8 ms of
this process's CPU per request, where httpx (``--client httpx``) took about 3 ms. On
this two-core machine the client shares the cores with the server and Neo4j, while real
clients run on other machines, so the lighter client leaves the figures to the server.

Figures: p50/p95/p99/max in ms, throughput, non-201 answers by status (599: no answer,
``transport_errors`` says why), which risk signals were available in the decisions (ring,
GNN), the CPU milliseconds per request spent by the server, by Neo4j (when it is the
project's own, its pid known) and by this client, and the 1-minute load average at the
end of the phase. One JSON line per phase, and ``--report``. Submitted applications stay
in the graph (tier, case, audit), unless ``--cleanup``, which also removes their audit
events.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import importlib.util
import json
import os
import random
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
from urllib.parse import urlsplit

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


def start_server(workers: int, log: Path, loop: str = "auto", http: str = "auto"
                 ) -> tuple[subprocess.Popen[bytes], str, str]:
    """uvicorn in a child process; returns it, its base URL and the JWT secret it uses.
    ``loop`` and ``http`` are uvicorn's: "auto" takes uvloop and httptools when they are
    installed (they are pinned), as ``fraudgraph serve`` does."""
    port = _free_port()
    env = dict(os.environ)
    secret = env.get("FRAUDGRAPH_JWT_SECRET") or secrets.token_urlsafe(48)
    env["FRAUDGRAPH_JWT_SECRET"] = secret
    command = [sys.executable, "-m", "uvicorn", "benchmarks.api:server_app", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
               "--no-access-log", "--log-level", "warning", "--loop", loop, "--http", http,
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


def _uvicorn_stack(loop: str, http: str) -> dict[str, str]:
    """What "auto" resolves to in the server (the same interpreter)."""
    def installed(module: str) -> bool:
        return importlib.util.find_spec(module) is not None

    return {"loop": loop if loop != "auto" else
            ("uvloop" if installed("uvloop") else "asyncio"),
            "http": http if http != "auto" else
            ("httptools" if installed("httptools") else "h11")}


class CpuMeter:
    """CPU seconds spent by the API server (all its processes), Neo4j (when it is the
    project's own server, so its pid is known) and this client, to put a CPU cost on
    each request beside its latency."""

    def __init__(self, server: subprocess.Popen[bytes] | None, neo4j_pid: int | None):
        self.server = server
        self.neo4j = _process(neo4j_pid)

    def read(self) -> tuple[float, float, float, tuple[float, float]]:
        server = float("nan")
        if self.server is not None and (parent := _process(self.server.pid)) is not None:
            server = sum(_cpu(p) for p in [parent, *parent.children(recursive=True)])
        neo = _cpu(self.neo4j) if self.neo4j is not None else float("nan")
        return server, neo, time.process_time(), _steal()

    def per_request(self, before: tuple[float, float, float, tuple[float, float]],
                    requests: int) -> dict[str, Any]:
        after = self.read()
        names = ("server", "neo4j", "client")
        figures = {f"{name}_cpu_ms_per_request": round(1000 * (b - a) / requests, 2)
                   for name, a, b in zip(names, before[:3], after[:3], strict=True)
                   if requests and b == b and a == a}  # NaN: not measurable
        steal = _steal_pct(before[3], after[3])
        if steal is not None:
            figures["cpu_steal_pct"] = steal
        return figures | {"loadavg_1m": round(os.getloadavg()[0], 2)}


def _steal() -> tuple[float, float]:
    """(steal, all) CPU time of the machine from /proc/stat: the share the hypervisor
    gave to other guests. On this virtual machine it rose to 10-45 % under load and
    moves the tail; each phase reports it (0, 0 where /proc/stat is not there)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0, 0.0
    values = [float(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
    return (values[7] if len(values) > 7 else 0.0), sum(values)


def _steal_pct(before: tuple[float, float], after: tuple[float, float]) -> float | None:
    """Steal between two ``_steal`` readings, in % of all CPU time; None if none passed."""
    (steal0, total0), (steal1, total1) = before, after
    return round(100 * (steal1 - steal0) / (total1 - total0), 1) if total1 > total0 else None


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


def _percentile(ordered: list[float], p: float) -> float:
    """The ``p`` quantile of a sorted, non-empty list (nearest rank, no interpolation)."""
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def figures(name: str, latencies: list[float], seconds: float,
            statuses: Counter[int] | None = None, **extra: Any) -> dict[str, Any]:
    ordered = sorted(latencies)

    def pct(p: float) -> float | None:
        return round(1000 * _percentile(ordered, p), 2) if ordered else None

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


class TransportError(Exception):
    """No HTTP answer at all (refused, reset, timed out); the name says which."""


class HttpxPoster:
    """POSTs through httpx: the full client (pool, timeouts; HTTP/1.1 here), and about
    3 ms of this process's CPU per request on this machine."""

    def __init__(self, http: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.http = http
        self.headers = headers

    async def __call__(self, path: str, row: dict[str, str]) -> tuple[int, bytes]:
        try:
            response = await self.http.post(path, json=row, headers=self.headers)
        except httpx.HTTPError as exc:
            raise TransportError(type(exc).__name__) from exc
        return response.status_code, response.content

    async def aclose(self) -> None:
        await self.http.aclose()


class RawPoster:
    """POSTs over plain HTTP/1.1 keep-alive connections (asyncio streams), one per request
    in flight, reused when idle: what a load generator needs and no more, so the client's
    share of the machine's two cores is small (the clients of a real deployment run
    elsewhere). Answers must carry ``Content-Length`` (uvicorn's do); anything else, or a
    broken connection, is a transport error and the connection is dropped."""

    def __init__(self, url: str, headers: dict[str, str], timeout: float = 60.0) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout = timeout
        self._head = "".join(f"{k}: {v}\r\n" for k, v in (
            {"Host": f"{self.host}:{self.port}", "Content-Type": "application/json",
             "Accept": "application/json"} | headers).items())
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while self._idle:
            reader, writer = self._idle.pop()
            if not reader.at_eof() and not writer.is_closing():
                return reader, writer
            writer.close()  # the server closed it while idle
        return await asyncio.open_connection(self.host, self.port)

    async def __call__(self, path: str, row: dict[str, str]) -> tuple[int, bytes]:
        body = json.dumps(row, separators=(",", ":")).encode()
        request = (f"POST {path} HTTP/1.1\r\n{self._head}Content-Length: {len(body)}\r\n\r\n"
                   .encode() + body)
        writer = None
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await self._connection()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                headers = {}
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                if "content-length" not in headers:
                    raise ValueError("an answer without Content-Length")
                content = await reader.readexactly(int(headers["content-length"]))
        except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError) as exc:
            if writer is not None:
                writer.close()
            raise TransportError(type(exc).__name__) from exc
        if headers.get("connection", "").lower() == "close":
            writer.close()
        else:
            self._idle.append((reader, writer))
        return status, content

    async def aclose(self) -> None:
        while self._idle:
            self._idle.pop()[1].close()


class Submitter:
    """Posts applications and keeps what came back."""

    def __init__(self, post: Any, rows: list[dict[str, str]], meter: CpuMeter | None = None):
        self.post = post
        self.meter = meter or CpuMeter(None, None)
        self.rows = iter(rows)
        self.statuses: Counter[int] = Counter()
        self.signals: Counter[str] = Counter()
        self.tiers: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.started: list[float] = []
        self.transport_errors: Counter[str] = Counter()

    def reset(self) -> None:
        self.statuses, self.signals, self.tiers, self.latencies = (
            Counter(), Counter(), Counter(), [])
        self.started, self.transport_errors = [], Counter()

    async def submit(self, started: float | None = None) -> None:
        row = next(self.rows, None)
        if row is None:
            raise RuntimeError("out of input rows: the estimate in run() is too low")
        started = started if started is not None else time.perf_counter()
        try:
            status, content = await self.post("/v1/applications", row)
        except TransportError as exc:
            status = 599  # no answer at all
            self.transport_errors[str(exc)] += 1
        self.latencies.append(time.perf_counter() - started)
        self.started.append(started)
        self.statuses[status] += 1
        if status == 201:
            body = json.loads(content)
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
    steal: dict[int, tuple[float, float]] = {}  # the machine's (steal, all) CPU by window
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
        if sample and time.perf_counter() >= next_sample:
            steal[int((time.perf_counter() - started) // sample)] = _steal()
            if server is not None:
                memory.append((round(time.perf_counter() - started, 1),
                               server_rss_mib(server)))
            next_sample += sample
    await asyncio.gather(*tasks)
    extra = (sub.extra() | {"rate_per_s": rate, "max_in_flight": in_flight_max}
             | sub.meter.per_request(cpu, len(sub.latencies)))
    if memory:
        extra["server_rss_mib"] = _memory_summary(memory)
    if sample:
        extra["timeline"] = _timeline(sub, started, sample, steal, _steal())
    return figures(name, sub.latencies, time.perf_counter() - started, sub.statuses, **extra)


async def think_loop(sub: Submitter, clients: int, think_ms: float, duration: float,
                     seed: int) -> dict[str, Any]:
    """``clients`` clients, each pausing an exponential think time of mean ``think_ms``
    (its own seeded generator) between an answer and its next submission, for
    ``duration`` seconds: how underwriters and dealer tablets submit. The first pause
    is drawn too, so the clients do not start in step. Latency is from sending."""
    sub.reset()
    mean = think_ms / 1000
    in_flight = in_flight_max = 0
    pauses: list[float] = []
    cpu = sub.meter.read()
    started = time.perf_counter()
    end = started + duration

    async def client(n: int) -> None:
        nonlocal in_flight, in_flight_max
        rng = random.Random(f"{seed}:{think_ms}:{n}")
        while True:
            pause = rng.expovariate(1 / mean) if mean > 0 else 0.0
            if time.perf_counter() + pause >= end:
                return
            pauses.append(pause)
            await asyncio.sleep(pause)
            in_flight += 1
            in_flight_max = max(in_flight_max, in_flight)
            try:
                await sub.submit()
            finally:
                in_flight -= 1

    await asyncio.gather(*(client(n) for n in range(clients)))
    extra = (sub.extra() | {"clients": clients, "think_mean_ms": think_ms,
                            "think_drawn_mean_ms": round(1000 * statistics.fmean(pauses), 1)
                            if pauses else None, "max_in_flight": in_flight_max}
             | sub.meter.per_request(cpu, len(sub.latencies)))
    return figures(f"submit_think_{think_ms:g}ms_x{clients}", sub.latencies,
                   time.perf_counter() - started, sub.statuses, **extra)


def think_rows(clients: int, think_ms: float, duration: float) -> int:
    """An upper bound of the submissions of a think-time phase (answers taking no time)."""
    rate = min(clients / max(think_ms / 1000, 0.005), 400.0)
    return int(1.2 * rate * duration) + 2 * clients


def _timeline(sub: Submitter, origin: float, window: float,
              steal: dict[int, tuple[float, float]], end: tuple[float, float]
              ) -> list[list[float | None]]:
    """Per window of arrivals: [start s, requests, p50 ms, p95 ms, max ms, CPU steal %],
    to place a tail in time, against the hypervisor's steal and Neo4j's debug.log
    (checkpoints, VM pauses). ``steal`` holds the machine's counters read early in each
    window (by window number), ``end`` the counters after the last answer; a window
    without a reading, or without one after it, has no steal figure."""
    buckets: dict[int, list[float]] = {}
    for started, latency in zip(sub.started, sub.latencies, strict=True):
        buckets.setdefault(int((started - origin) // window), []).append(latency)
    rows: list[list[float | None]] = []
    for k in sorted(buckets):
        ordered = sorted(buckets[k])
        after = steal.get(k + 1, end if k == max(buckets) else None)
        share = _steal_pct(steal[k], after) if k in steal and after else None
        rows.append([round(k * window, 1), len(ordered),
                     *(round(1000 * _percentile(ordered, p), 1) for p in (0.5, 0.95)),
                     round(1000 * ordered[-1], 1), share])
    return rows


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
    needed = (args.warmup + args.requests
              + (int(rate_bound * args.duration) if args.open_loop else 0)
              + sum(think_rows(args.clients, think, args.duration) for think in args.think)
              + int(rate_bound * soak) + 50)
    rows = fresh_rows(settings, needed, args.seed, work)
    print(json.dumps({"phase": "input", "rows": len(rows), "needed": needed}), flush=True)
    results = await bolt_reference(settings, args.clients, args.bolt_rounds)
    server, url, secret = start_server(args.workers, work / "server.log", args.loop,
                                       args.http)
    try:
        token = issue_token(User(username="bench.underwriter", role=Role.UNDERWRITER),
                            secret, 600)
        headers = {"Authorization": f"Bearer {token}"}
        post: HttpxPoster | RawPoster
        if args.client == "httpx":
            limits = httpx.Limits(max_connections=200, max_keepalive_connections=200,
                                  keepalive_expiry=10)
            post = HttpxPoster(httpx.AsyncClient(base_url=url, timeout=60, limits=limits),
                               headers)
        else:
            post = RawPoster(url, headers, timeout=60)
        results.append({"phase": "client", "http_client": args.client,
                        "uvicorn": _uvicorn_stack(args.loop, args.http)})
        print(json.dumps(results[-1]), flush=True)
        try:
            sub = Submitter(post, rows, CpuMeter(server, neo4j_server.status(settings).pid))
            await closed_loop(sub, min(args.clients, args.warmup), args.warmup)  # warm-up
            results.append({"phase": "server_rss_after_warmup_mib",
                            "value": round(server_rss_mib(server), 1)})
            rate = args.rate
            if args.requests:
                closed = await closed_loop(sub, args.clients, args.requests)
                results.append(closed)
                if rate <= 0:  # auto: half of what the closed loop sustained
                    rate = min(MAX_AUTO_RATE, round(closed["throughput_per_s"] / 2, 1))
            if rate <= 0:
                rate = MAX_AUTO_RATE / 2  # no closed loop to take it from
            if args.duration and args.open_loop:
                results.append(await open_loop(sub, rate, args.duration,
                                               f"submit_open_loop_{rate}_per_s"))
            for think in args.think if args.duration else ():
                results.append(await think_loop(sub, args.clients, think, args.duration,
                                                args.seed))
            if soak:
                results.append(await open_loop(sub, rate, soak, f"soak_{soak}s_{rate}_per_s",
                                               args.sample, server))
        finally:
            await post.aclose()
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
    parser.add_argument("--open-loop", action=argparse.BooleanOptionalAction, default=True,
                        help="the open-loop phase (--no-open-loop: skip it)")
    parser.add_argument("--think", type=float, action="append", default=[], metavar="MS",
                        help="a phase of --clients clients with exponential think time of "
                             "this mean (ms) between an answer and the next submission, "
                             "for --duration seconds; repeat for several")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw",
                        help="HTTP client: raw HTTP/1.1 keep-alive streams (light) or httpx")
    parser.add_argument("--soak", type=int, default=0,
                        help="then a soak: open loop for this many seconds, server memory "
                             "sampled")
    parser.add_argument("--sample", type=float, default=10.0, help="soak memory sampling s")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto",
                        help="uvicorn's event loop (auto: uvloop when installed)")
    parser.add_argument("--http", choices=("auto", "h11", "httptools"), default="auto",
                        help="uvicorn's HTTP parser (auto: httptools when installed)")
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
