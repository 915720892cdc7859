from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import RunnerDep, require
from api.roles import Permission
from api.schemas import Health
from fraudgraph import __version__
from graph.runner import DatabaseUnavailable

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(runner: RunnerDep, response: Response) -> Health:
    """Whether the service and Neo4j answer; no token needed. 503 while Neo4j is down."""
    try:
        runner.ping()
    except DatabaseUnavailable:
        response.status_code = 503
        return Health(status="degraded", neo4j="down", version=__version__)
    return Health(status="ok", neo4j="up", version=__version__)


@router.get("/metrics", include_in_schema=False,
            dependencies=[Depends(require(Permission.READ_METRICS))])
def metrics() -> Response:
    """Prometheus metrics (request counts and latencies); needs a token like the rest."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
