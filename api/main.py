"""The FastAPI application: `create_app(settings)`; run with `fraudgraph serve`."""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import problems
from api.batching import SubmissionBatcher
from api.cache import TtlCache
from api.routes import (
    applications,
    approvals,
    audit,
    auth,
    cases,
    dealers,
    entities,
    health,
    model,
    rings,
)
from fraudgraph import __version__
from fraudgraph.logs import get_logger
from fraudgraph.settings import Settings
from graph.privacy import Protected, Pseudonymiser
from graph.runner import QueryRunner
from lifecycle.context import PolicyCache
from lifecycle.scorers import default_scorers

REQUESTS = Counter("fraudgraph_requests_total", "API requests", ["route", "status"])
LATENCY = Histogram("fraudgraph_request_seconds", "API request latency", ["route"])
ROUTERS = (health.router, auth.router, applications.router, cases.router, entities.router,
           audit.router, rings.router, dealers.router, model.router, approvals.router)
#: Imported at startup, off the request path: torch and LightGBM take seconds to import
#: (over 15 s on a busy machine), and the first GET /v1/model or submission paid it.
WARM_MODULES = ("gnn.registry", "gnn.score")
log = get_logger("api")


class ApiPseudonymiser(Pseudonymiser):
    """The API's pseudonymiser: no per-value cache. Ingest's cache (65,536 values) pays
    off on a file where shared identifiers recur; in a long-running API nearly every
    submission brings new values, so it only grew the server's memory towards its bound
    (tens of MiB, the growth a 10-minute soak showed), to save microseconds."""

    def protect(self, kind: str, normalised: str, masked: str) -> Protected:
        return Protected(self.token(kind, normalised), self.encrypt(normalised), masked)


def create_app(settings: Settings) -> FastAPI:
    """An API over the configured Neo4j; the driver lives as long as the app."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runner = QueryRunner.from_settings(settings)
        # Before the first request is accepted, in a thread so the loop stays free.
        app.state.warm_up_s = await asyncio.to_thread(warm_up, app.state.scorers)
        yield
        app.state.batcher.close()
        app.state.runner.close()

    app = FastAPI(title="fraudgraph", version=__version__, lifespan=lifespan,
                  description="Graph risk for auto-loan applications: decisions, entities, "
                              "rings, cases. Errors are application/problem+json.")
    app.state.settings = settings
    app.state.pseudo = ApiPseudonymiser(settings.hash_key.get_secret_value(),
                                        settings.encryption_key.get_secret_value())
    app.state.scorers = default_scorers(settings)
    app.state.policies = PolicyCache()
    app.state.cache = TtlCache(settings.api_cache_seconds)
    app.state.batcher = SubmissionBatcher(settings.api_batch_max, settings.api_batch_workers)
    problems.install(app, settings.retry_after_s)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(Measure)
    return app


def warm_up(scorers: Sequence[Any]) -> float:
    """Import the model packages and load the champion; returns the seconds it took.

    Done at startup, before the server accepts requests: a background thread was tried
    first, but then the first submissions waited on the import lock for it anyway
    (6-11 s in the benchmark's warm-up). Startup takes that much longer instead (the
    import is a few seconds on a quiet machine, once per process)."""
    started = time.perf_counter()
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # the scorers and /v1/model say so when asked
    for scorer in scorers:
        if hasattr(scorer, "warm_up"):
            scorer.warm_up()
    seconds = round(time.perf_counter() - started, 2)
    log.info("api.warm", seconds=seconds)
    return seconds


class Measure:
    """Request count and latency per route template and status. A plain ASGI middleware:
    ``@app.middleware("http")`` runs every request through extra tasks and streams."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            # The route template, not the path: paths can carry ids (bounded labels).
            name = getattr(scope.get("route"), "path", "unmatched")
            REQUESTS.labels(name, str(status)).inc()
            LATENCY.labels(name).observe(time.perf_counter() - started)
