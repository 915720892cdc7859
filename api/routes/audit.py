from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import RunnerDep, require
from api.roles import Permission
from api.security import User
from lifecycle import audit

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("", response_model=list[audit.AuditEvent])
def events(runner: RunnerDep, _: Annotated[User, Depends(require(Permission.READ_AUDIT))],
           target: Annotated[str, Query(min_length=1, max_length=200)]
           ) -> list[audit.AuditEvent]:
    """The append-only audit events about one target (an application, a node, a case)."""
    return audit.events_for(runner, target)
