from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path

from api.deps import LifecycleDep, RunnerDep, require
from api.problems import ApiProblem
from api.roles import Permission, may_check
from api.schemas import ApprovalView
from api.security import User
from lifecycle import approvals

router = APIRouter(prefix="/v1/approvals", tags=["four eyes"])
Checker = Annotated[User, Depends(require(Permission.DECIDE_APPROVALS))]
ApprovalId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-.]+$")]


def _checked(runner: RunnerDep, approval_id: str, user: User) -> approvals.Approval:
    approval = approvals.get(runner, approval_id)
    if not may_check(user.role, approval.action):
        raise ApiProblem(403, "Forbidden", f"role {user.role.value!r} may not check "
                                           f"{approval.action.value!r} requests")
    return approval


@router.get("", response_model=list[ApprovalView])
def pending(runner: RunnerDep, _: Checker) -> list[ApprovalView]:
    """Four-eyes requests waiting for a checker, oldest first."""
    return [ApprovalView.of(a) for a in approvals.pending(runner)]


@router.get("/{approval_id}", response_model=ApprovalView)
def get(approval_id: ApprovalId, runner: RunnerDep, _: Checker) -> ApprovalView:
    return ApprovalView.of(approvals.get(runner, approval_id))


@router.post("/{approval_id}/approve", response_model=ApprovalView)
def approve(approval_id: ApprovalId, ctx: LifecycleDep, user: Checker) -> ApprovalView:
    """The checker's half: runs the action. The maker cannot check their own request."""
    _checked(ctx.runner, approval_id, user)
    return ApprovalView.of(approvals.approve(ctx, approval_id, by=user.username))


@router.post("/{approval_id}/reject", response_model=ApprovalView)
def reject(approval_id: ApprovalId, runner: RunnerDep, user: Checker) -> ApprovalView:
    """The checker refuses: nothing runs; the maker may ask again."""
    _checked(runner, approval_id, user)
    return ApprovalView.of(approvals.reject(runner, approval_id, by=user.username,
                                            at=datetime.now(UTC)))
