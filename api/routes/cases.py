from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from api.deps import LifecycleDep, RunnerDep, require
from api.roles import Permission
from api.schemas import ApprovalView, AssignIn, CloseIn, EscalateIn, NoteIn, WatchlistIn
from api.security import User
from lifecycle import cases, portfolio, watchlist
from lifecycle.cases import Case, Closure
from lifecycle.portfolio import PortfolioFigures
from lifecycle.watchlist import WatchlistEntry

router = APIRouter(prefix="/v1", tags=["cases"])
WorkCases = Annotated[User, Depends(require(Permission.WORK_CASES))]


@router.get("/cases")
def queue(runner: RunnerDep, _: WorkCases) -> list[dict[str, Any]]:
    """Live review cases, riskiest first, then by SLA deadline."""
    return cases.queue(runner)


@router.get("/cases/{case_id}", response_model=Case)
def get(case_id: str, runner: RunnerDep, _: WorkCases) -> Case:
    return cases.get_case(runner, case_id)


@router.post("/cases/{case_id}/assign", response_model=Case)
def assign(case_id: str, body: AssignIn, ctx: LifecycleDep, user: WorkCases) -> Case:
    return cases.assign(ctx, case_id, body.assignee, by=user.username)


@router.post("/cases/{case_id}/notes", status_code=201)
def note(case_id: str, body: NoteIn, ctx: LifecycleDep, user: WorkCases) -> dict[str, str]:
    return {"note_id": cases.add_note(ctx, case_id, author=user.username, text=body.text)}


@router.post("/cases/{case_id}/decision", response_model=Closure)
def decide(case_id: str, body: CloseIn, ctx: LifecycleDep, user: WorkCases) -> Closure:
    """Close a case with a disposition (confirmed fraud kinds, cleared, legitimate
    relationship...); overriding an automatic decline goes to four eyes."""
    return cases.close_case(ctx, case_id, body.disposition, by=user.username,
                            reason=body.reason)


@router.post("/cases/{case_id}/escalate", response_model=Case)
def escalate(case_id: str, body: EscalateIn, ctx: LifecycleDep, user: WorkCases) -> Case:
    """Hand a live case up to a supervisor with the reason; it stays in the queue."""
    return cases.escalate(ctx, case_id, by=user.username, reason=body.reason)


@router.get("/watchlist", response_model=list[WatchlistEntry])
def watchlist_entries(runner: RunnerDep,
                      _: Annotated[User, Depends(require(Permission.MANAGE_WATCHLIST))]
                      ) -> list[WatchlistEntry]:
    return watchlist.entries(runner)


@router.post("/watchlist", response_model=ApprovalView, status_code=202)
def watchlist_add(body: WatchlistIn, ctx: LifecycleDep,
                  user: Annotated[User, Depends(require(Permission.MANAGE_WATCHLIST))]
                  ) -> ApprovalView:
    """Ask for an identifier to go on the watchlist. The value is normalised and hashed as
    ingest does; the entry is made when a different person approves the request
    (``/v1/approvals``): 202 with the pending request."""
    return ApprovalView.of(watchlist.request_add(ctx, body.kind, body.value,
                                                 reason=body.reason,
                                                 requested_by=user.username))


@router.get("/portfolio", response_model=PortfolioFigures)
def figures(runner: RunnerDep,
            _: Annotated[User, Depends(require(Permission.READ_PORTFOLIO))]
            ) -> PortfolioFigures:
    """Funnel, tier mix, rates by dealer and agent, delinquency by stage, by ring risk,
    and loans by collection stage crossed with ring-risk band (``stage_by_ring_risk``)."""
    return portfolio.portfolio_figures(runner)
