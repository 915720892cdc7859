"""Every error leaves the API as ``application/problem+json`` (RFC 9457), mapped here once.

A problem says what was wrong (``title``, ``detail``) and where (``errors`` with the
location of each invalid field). Invalid input is a 4xx, never a 500; while Neo4j is down
requests get 503 with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from neo4j.exceptions import TransientError
from starlette.exceptions import HTTPException as StarletteHTTPException

from fraudgraph.logs import get_logger
from graph.runner import DatabaseUnavailable, QueryError

PROBLEM = "application/problem+json"
log = get_logger("api")


class ApiProblem(Exception):
    """A refusal the API raises itself: status, title and detail."""

    def __init__(self, status: int, title: str, detail: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = headers or {}


def problem(status: int, title: str, detail: str, request: Request,
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail,
            "instance": request.url.path, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _where(error: dict[str, Any]) -> str:
    return ".".join(str(part) for part in error.get("loc", ()))


def install(app: FastAPI, retry_after_s: int) -> None:
    """Register the handlers that turn every exception into a problem document."""

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, request, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"where": _where(e), "problem": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        detail = "; ".join(f"{e['where']}: {e['problem']}" for e in errors)
        return problem(422, "Invalid request", detail, request, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, _title(exc.status_code), str(exc.detail), request,
                       dict(exc.headers or {}))

    @app.exception_handler(DatabaseUnavailable)
    async def _down(request: Request, exc: DatabaseUnavailable) -> JSONResponse:
        log.warning("api.neo4j_unavailable", path=request.url.path)
        return problem(503, "Database unavailable",
                       "Neo4j does not answer; retry after the given seconds", request,
                       {"Retry-After": str(retry_after_s)})

    @app.exception_handler(TransientError)
    async def _busy(request: Request, exc: TransientError) -> JSONResponse:
        # A deadlock or lock timeout that outlived the driver's retries: the request did
        # nothing (its transaction rolled back) and may simply be sent again.
        log.warning("api.neo4j_transient", path=request.url.path, code=exc.code)
        return problem(503, "Database busy", "a concurrent change held the same data; the "
                       "request was rolled back and may be retried", request,
                       {"Retry-After": "1"})

    @app.exception_handler(QueryError)
    async def _query(request: Request, exc: QueryError) -> JSONResponse:
        # The query text may carry nothing personal, but parameters might: log the name only.
        log.error("api.query_failed", query=exc.query.name, path=request.url.path)
        return problem(500, "Internal error", f"query {exc.query.name!r} failed", request)

    _install_domain(app)


def _install_domain(app: FastAPI) -> None:
    from gnn.overview import NoModel
    from lifecycle import errors as lc
    from rings.browse import RingNotFound
    from rings.runs import NoDetectionRun

    statuses: list[tuple[type[Exception], int, str]] = [
        (lc.NotFound, 404, "Not found"),
        (RingNotFound, 404, "Not found"),
        (NoDetectionRun, 404, "Not found"),
        (NoModel, 404, "Not found"),
        (lc.InvalidInput, 422, "Invalid input"),
        (lc.IllegalTransition, 409, "Illegal transition"),
        (lc.StaleState, 409, "Conflict"),
        (lc.FourEyesViolation, 403, "Four-eyes rule"),
        (lc.PolicyError, 422, "Invalid policy"),
    ]
    for exc_type, status, title in statuses:
        app.add_exception_handler(exc_type, _domain_handler(status, title))


def _domain_handler(status: int, title: str):  # type: ignore[no-untyped-def]
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        return problem(status, title, str(exc), request)

    return handle


def _title(status: int) -> str:
    return {400: "Bad request", 401: "Not authenticated", 403: "Forbidden", 404: "Not found",
            405: "Method not allowed", 409: "Conflict", 422: "Invalid request"}.get(
        status, "Error")
