from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response

from api.deps import BatcherDep, LifecycleDep, RunnerDep, require
from api.roles import Permission
from api.schemas import ApplicationIn, HumanReviewIn, RepaymentIn, TransitionIn
from api.security import User
from lifecycle import cases, decision, servicing, transitions
from lifecycle.decision import Decision
from lifecycle.states import LoanState
from lifecycle.transitions import TransitionRecord

router = APIRouter(prefix="/v1/applications", tags=["applications"])
AppId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-.]+$")]


@router.post("", response_model=Decision, status_code=201)
async def submit(body: ApplicationIn, ctx: LifecycleDep,  # type: ignore[valid-type]
                 batcher: BatcherDep,
                 user: Annotated[User, Depends(require(Permission.SUBMIT_APPLICATION))]
                 ) -> Response:
    """Submit one application (a contract row) and get the decision back synchronously:
    tier, scores, reason codes. A bad field is a 422 naming it; nothing is written.
    Submissions that arrive together are decided together (``api.batching``)."""
    submission = decision.prepare(ctx, body.model_dump(),  # type: ignore[attr-defined]
                                  actor=user.username)
    decided = await batcher.decide(ctx, submission)
    # Serialised once, here: FastAPI would validate the Decision again against the
    # response model before writing the same JSON (the model still documents it).
    return Response(decided.model_dump_json(), status_code=201,
                    media_type="application/json")


@router.get("/{application_id}/decisions", response_model=list[Decision])
def decisions(application_id: AppId, runner: RunnerDep,
              _: Annotated[User, Depends(require(Permission.READ_APPLICATION))]
              ) -> list[Decision]:
    """Every decision with its frozen inputs, policy version and reasons, oldest first."""
    return decision.decisions(runner, application_id)


@router.get("/{application_id}/risk")
def risk(application_id: AppId, runner: RunnerDep,
         _: Annotated[User, Depends(require(Permission.READ_APPLICATION))]
         ) -> dict[str, Any]:
    """The current status and the latest decision's tier, scores and reason codes."""
    status = transitions.current_status(runner, application_id)
    history = decision.decisions(runner, application_id)
    latest = history[-1] if history else None
    return {"application_id": application_id, "status": status,
            "tier": latest.tier if latest else None,
            "reasons": [r.model_dump() for r in latest.reasons] if latest else [],
            "signals": latest.signals.model_dump(mode="json")
            if latest and latest.signals else None}


@router.get("/{application_id}/transitions", response_model=list[TransitionRecord])
def history(application_id: AppId, runner: RunnerDep,
            _: Annotated[User, Depends(require(Permission.READ_APPLICATION))]
            ) -> list[TransitionRecord]:
    """Who moved the application, when and why."""
    return transitions.history(runner, application_id)


@router.post("/{application_id}/transitions", status_code=201)
def move(application_id: AppId, body: TransitionIn, ctx: LifecycleDep,
         user: Annotated[User, Depends(require(Permission.MANAGE_LOAN))]) -> dict[str, str]:
    """Contract, disburse, decline...: an illegal move is a 409 that lists the allowed.
    Disbursing goes through servicing: a suspended dealer is not paid (422), and the
    amount and payee are recorded and audited."""
    if body.target == LoanState.DISBURSED:
        transition_id = servicing.disburse(ctx, application_id, by=user.username)
    else:
        transition_id = transitions.transition(ctx.runner, application_id, body.target,
                                               actor=user.username, at=datetime.now(UTC),
                                               reason=body.reason)
    return {"transition_id": transition_id,
            "status": transitions.current_status(ctx.runner, application_id)}


@router.post("/{application_id}/repayments", status_code=201)
def repayment(application_id: AppId, body: RepaymentIn, ctx: LifecycleDep,  # type: ignore[valid-type]
              _: Annotated[User, Depends(require(Permission.MANAGE_LOAN))]) -> dict[str, str]:
    """Record one installment (due, and paid when it was): the contract's ``repayments``
    row, validated as ingest does; the servicing run turns it into days past due."""
    row = body.model_dump() | {"application_id": application_id}  # type: ignore[attr-defined]
    return {"installment": servicing.post_repayment(ctx, row)}


@router.post("/{application_id}/human-review", status_code=201)
def human_review(application_id: AppId, body: HumanReviewIn, ctx: LifecycleDep,
                 user: Annotated[User, Depends(require(Permission.MANAGE_LOAN))]
                 ) -> dict[str, str]:
    """An applicant declined by automation asks for a person (PIPL Art. 24): opens a case."""
    case_id = cases.request_human_review(ctx, application_id, requested_by=user.username,
                                         reason=body.reason)
    return {"case_id": case_id}
