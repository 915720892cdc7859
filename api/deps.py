"""The injected dependencies, defined once: settings, query runner, pseudonymiser, the
current user and the permission each route needs.

They are ``async def`` on purpose: none of them waits on anything, and FastAPI runs a
plain ``def`` dependency in its thread pool, one hop per dependency per request (about
seven on the submit path) for what is a dictionary lookup or a token check. The lifecycle
and the current user read the app's state from the request rather than through the
settings, runner and pseudonymiser dependencies: each dependency FastAPI resolves is
event-loop time on every request, and the submit path resolved nine (now five)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from api.batching import SubmissionBatcher
from api.cache import TtlCache
from api.problems import ApiProblem
from api.roles import Permission, allowed
from api.security import AuthError, User, read_token
from fraudgraph.settings import Settings
from graph.privacy import Pseudonymiser
from graph.runner import QueryRunner
from lifecycle.context import Lifecycle

_bearer = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_runner(request: Request) -> QueryRunner:
    return request.app.state.runner  # type: ignore[no-any-return]


async def get_pseudo(request: Request) -> Pseudonymiser:
    return request.app.state.pseudo  # type: ignore[no-any-return]


async def get_cache(request: Request) -> TtlCache:
    return request.app.state.cache  # type: ignore[no-any-return]


async def get_batcher(request: Request) -> SubmissionBatcher:
    return request.app.state.batcher  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
CacheDep = Annotated[TtlCache, Depends(get_cache)]
RunnerDep = Annotated[QueryRunner, Depends(get_runner)]
PseudoDep = Annotated[Pseudonymiser, Depends(get_pseudo)]
BatcherDep = Annotated[SubmissionBatcher, Depends(get_batcher)]


async def get_lifecycle(request: Request) -> Lifecycle:
    """The lifecycle context over the app's runner; scorers and the policy cache are built
    once per app."""
    state = request.app.state
    settings: Settings = state.settings
    return Lifecycle(runner=state.runner, pseudo=state.pseudo, scorers=state.scorers,
                     policy_file=settings.lifecycle_policy_path,
                     sla_working_days=settings.lifecycle_sla_working_days,
                     policies=state.policies)


LifecycleDep = Annotated[Lifecycle, Depends(get_lifecycle)]


async def get_current_user(request: Request,
                           token: Annotated[str | None, Depends(_bearer)]) -> User:
    if not token:
        raise ApiProblem(401, "Not authenticated", "send a bearer token from /v1/auth/token",
                         {"WWW-Authenticate": "Bearer"})
    try:
        settings: Settings = request.app.state.settings
        return read_token(token, settings.jwt_secret.get_secret_value())
    except AuthError as exc:
        raise ApiProblem(401, "Not authenticated", str(exc),
                         {"WWW-Authenticate": "Bearer"}) from None


CurrentUser = Annotated[User, Depends(get_current_user)]


def require(permission: Permission) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets the request through only if the user's role allows it."""

    async def check(user: CurrentUser) -> User:
        if not allowed(user.role, permission):
            raise ApiProblem(403, "Forbidden",
                             f"role {user.role.value!r} may not {permission.value}")
        return user

    check.permission = permission  # type: ignore[attr-defined]
    return check
