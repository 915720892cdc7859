"""Four eyes: a generic pending-approval object, enforced on the server.

A maker requests an action with parameters; a different person (the checker) approves it,
and only then does it run. ``approve`` refuses a checker who is the maker, and any
decision on an approval that is not pending. Actions with a handler here run on approval;
``promote_model`` and ``export_unmasked`` belong to other packages, which call
:func:`require_approved` before acting.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from graph.runner import Query, QueryRunner
from graph.schema import Label
from lifecycle import audit
from lifecycle.clock import new_id
from lifecycle.context import Lifecycle
from lifecycle.errors import FourEyesViolation, InvalidInput, NotFound


class Action(StrEnum):
    OVERRIDE_DECLINE = "override_decline"
    CONFIRM_RING_FRAUD = "confirm_ring_fraud"
    WATCHLIST_ADD = "watchlist_add"
    SUSPEND_DEALER = "suspend_dealer"
    SUSPEND_AGENT = "suspend_agent"
    CHANGE_POLICY = "change_policy"
    PROMOTE_MODEL = "promote_model"
    EXPORT_UNMASKED = "export_unmasked"


class Status(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Approval(BaseModel):
    approval_id: str
    action: Action
    params: dict[str, Any]
    reason: str
    requested_by: str
    requested_at: datetime
    status: Status
    decided_by: str | None = None
    decided_at: datetime | None = None
    result: dict[str, Any] | None = None


AP = Label.APPROVAL.value
CREATE = Query(
    "lifecycle.approvals.create",
    f"CREATE (p:{AP} {{approval_id: $approval_id, action: $action, params: $params, "
    "reason: $reason, requested_by: $requested_by, requested_at: $at, status: 'pending'})",
)
GET = Query("lifecycle.approvals.get",
            f"MATCH (p:{AP} {{approval_id: $approval_id}}) RETURN p {{.*}} AS p")
DECIDE = Query(
    "lifecycle.approvals.decide",
    f"MATCH (p:{AP} {{approval_id: $approval_id}}) WHERE p.status = 'pending' "
    "SET p.status = $status, p.decided_by = $by, p.decided_at = $at, p.result = $result "
    "RETURN p.approval_id AS approval_id",
)
PENDING = Query(
    "lifecycle.approvals.pending",
    f"MATCH (p:{AP}) WHERE p.status = 'pending' RETURN p {{.*}} AS p "
    "ORDER BY p.requested_at",
)

#: A handler runs the approved action and returns a small JSON-able result.
Handler = Callable[[Lifecycle, "Approval", str, datetime], dict[str, Any]]
HANDLERS: dict[Action, Handler] = {}


def handler(action: Action) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[action] = fn
        return fn
    return register


def _load(row: dict[str, Any]) -> Approval:
    p = dict(row)
    p["params"] = json.loads(p["params"])
    p["result"] = json.loads(p["result"]) if p.get("result") else None
    for key in ("requested_at", "decided_at"):
        if p.get(key) is not None:
            p[key] = p[key].to_native()
    return Approval.model_validate(p)


def get(runner: QueryRunner, approval_id: str) -> Approval:
    rows = runner.read(GET, approval_id=approval_id)
    if not rows:
        raise NotFound("approval", approval_id)
    return _load(rows[0]["p"])


def pending(runner: QueryRunner) -> list[Approval]:
    return [_load(r["p"]) for r in runner.read(PENDING)]


def request(runner: QueryRunner, action: Action | str, params: dict[str, Any], *,
            requested_by: str, reason: str, at: datetime) -> Approval:
    """Open a pending approval (the maker's half). Nothing else changes yet."""
    try:
        action = Action(action)
    except ValueError:
        raise InvalidInput("action", f"{action!r} is not one of "
                                     f"{', '.join(a.value for a in Action)}") from None
    if not requested_by.strip():
        raise InvalidInput("requested_by", "the maker must be named")
    if not reason.strip():
        raise InvalidInput("reason", "a four-eyes request needs a reason")
    approval_id = new_id("APR")
    with runner.transaction() as tx:
        tx.run(CREATE, approval_id=approval_id, action=action.value,
               params=json.dumps(params, sort_keys=True, default=str, ensure_ascii=False),
               reason=reason, requested_by=requested_by, at=at)
        audit.record(tx, actor=requested_by, at=at, action=f"four_eyes.request.{action}",
                     target=approval_id, params={"reason": reason})
    return get(runner, approval_id)


def _check_checker(approval: Approval, by: str) -> None:
    if approval.status != Status.PENDING:
        raise FourEyesViolation(f"approval {approval.approval_id!r} is already "
                                f"{approval.status} (by {approval.decided_by})")
    if not by.strip():
        raise FourEyesViolation("the checker must be named")
    if by.strip().casefold() == approval.requested_by.strip().casefold():
        raise FourEyesViolation(
            f"approval {approval.approval_id!r} ({approval.action}): the checker {by!r} is "
            "the maker; a different person must approve")


def approve(ctx: Lifecycle, approval_id: str, by: str) -> Approval:
    """The checker's half: refuse the maker, run the action, mark it approved."""
    approval = get(ctx.runner, approval_id)
    _check_checker(approval, by)
    at = ctx.clock()
    import lifecycle.actions  # noqa: F401  (registers the handlers)

    fn = HANDLERS.get(approval.action)
    result = fn(ctx, approval, by, at) if fn else {"executed": False,
                                                   "note": "the owning package acts on it"}
    with ctx.runner.transaction() as tx:
        if not tx.run(DECIDE, approval_id=approval_id, status=Status.APPROVED.value, by=by,
                      at=at, result=json.dumps(result, default=str)):
            raise FourEyesViolation(f"approval {approval_id!r} was decided meanwhile")
        audit.record(tx, actor=by, at=at, action=f"four_eyes.approve.{approval.action}",
                     target=approval_id, params={"requested_by": approval.requested_by})
    return get(ctx.runner, approval_id)


def reject(runner: QueryRunner, approval_id: str, by: str, at: datetime) -> Approval:
    approval = get(runner, approval_id)
    _check_checker(approval, by)
    with runner.transaction() as tx:
        tx.run(DECIDE, approval_id=approval_id, status=Status.REJECTED.value, by=by, at=at,
               result=None)
        audit.record(tx, actor=by, at=at, action=f"four_eyes.reject.{approval.action}",
                     target=approval_id)
    return get(runner, approval_id)


def require_approved(runner: QueryRunner, approval_id: str, action: Action) -> Approval:
    """For packages that act themselves (promote a model, export unmasked data)."""
    approval = get(runner, approval_id)
    if approval.action != action:
        raise FourEyesViolation(f"approval {approval_id!r} is for {approval.action}, "
                                f"not {action}")
    if approval.status != Status.APPROVED:
        raise FourEyesViolation(f"approval {approval_id!r} is {approval.status}, "
                                "not approved")
    return approval
