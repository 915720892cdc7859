"""The FastAPI application: `create_app(settings)`; run with `fraudgraph serve`."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from prometheus_client import Counter, Histogram

from api import problems
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
from fraudgraph.settings import Settings
from graph.privacy import Pseudonymiser
from graph.runner import QueryRunner
from lifecycle.scorers import default_scorers

REQUESTS = Counter("fraudgraph_requests_total", "API requests", ["route", "status"])
LATENCY = Histogram("fraudgraph_request_seconds", "API request latency", ["route"])
ROUTERS = (health.router, auth.router, applications.router, cases.router, entities.router,
           audit.router, rings.router, dealers.router, model.router, approvals.router)


def create_app(settings: Settings) -> FastAPI:
    """An API over the configured Neo4j; the driver lives as long as the app."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runner = QueryRunner.from_settings(settings)
        yield
        app.state.runner.close()

    app = FastAPI(title="fraudgraph", version=__version__, lifespan=lifespan,
                  description="Graph risk for auto-loan applications: decisions, entities, "
                              "rings, cases. Errors are application/problem+json.")
    app.state.settings = settings
    app.state.pseudo = Pseudonymiser(settings.hash_key.get_secret_value(),
                                     settings.encryption_key.get_secret_value())
    app.state.scorers = default_scorers(settings)
    app.state.cache = TtlCache(settings.api_cache_seconds)
    problems.install(app, settings.retry_after_s)
    for router in ROUTERS:
        app.include_router(router)
    app.middleware("http")(_measure)
    return app


async def _measure(request: Request,
                   call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    route = request.scope.get("route")
    # The route template, not the path: paths can carry ids.
    name = getattr(route, "path", "unmatched")
    REQUESTS.labels(name, str(response.status_code)).inc()
    LATENCY.labels(name).observe(time.perf_counter() - started)
    return response
