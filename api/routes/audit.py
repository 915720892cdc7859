from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import RunnerDep, require
from api.problems import ApiProblem
from api.roles import Permission
from api.schemas import UtcDatetime
from api.security import User
from lifecycle import audit

router = APIRouter(prefix="/v1/audit", tags=["audit"])
Text = Annotated[str | None, Query(min_length=1, max_length=200)]


@router.get("", response_model=list[audit.AuditEvent])
def events(runner: RunnerDep, _: Annotated[User, Depends(require(Permission.READ_AUDIT))],
           target: Text = None, actor: Text = None,
           action: Annotated[str | None, Query(min_length=1, max_length=100,
                                               description="prefix, e.g. reveal_pii")] = None,
           since: UtcDatetime | None = None, until: UtcDatetime | None = None,
           page: Annotated[int, Query(ge=1, le=100_000)] = 1,
           size: Annotated[int, Query(ge=1, le=500)] = 100) -> list[audit.AuditEvent]:
    """The append-only audit log: who did what to which target, newest first. At least
    one of ``target`` or ``actor`` (an application, a node, a case; a user's actions)."""
    if target is None and actor is None:
        raise ApiProblem(422, "Invalid request", "query: give target or actor (or both)")
    return audit.search(runner, target=target, actor=actor, action=action, since=since,
                        until=until, skip=(page - 1) * size, limit=size)
