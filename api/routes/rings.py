from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response

from api.deps import LifecycleDep, RunnerDep, SettingsDep, require
from api.problems import ApiProblem
from api.roles import Permission
from api.schemas import ApprovalView, RingConfirmIn
from api.security import User
from lifecycle import approvals, audit
from rings import browse, download, export
from rings.browse import RingDetail, RingPage, RingSort
from rings.config import RingConfig, RingConfigError, load_config

router = APIRouter(prefix="/v1/rings", tags=["rings"])
ReadRings = Annotated[User, Depends(require(Permission.READ_RINGS))]
_ID = r"^[A-Za-z0-9_\-.]+$"
RingId = Annotated[str, Path(min_length=1, max_length=64, pattern=_ID)]
RunId = Annotated[str | None, Query(min_length=1, max_length=100, pattern=_ID,
                                    description="Detection run; default the latest")]
Page = Annotated[int, Query(ge=1, le=100_000, description="1-based page number")]
Size = Annotated[int, Query(ge=1, le=200, description="Items per page")]
Score = Annotated[float | None, Query(ge=0, le=100)]
Format = Literal["csv", "xlsx", "json", "graphml", "gexf", "html", "pdf"]
assert set(Format.__args__) == set(export.ALL_FORMATS)  # type: ignore[attr-defined]


def ring_config(settings: SettingsDep) -> RingConfig:
    try:
        return load_config(settings.ring_config_file)
    except RingConfigError as exc:
        raise ApiProblem(500, "Ring configuration invalid", str(exc)) from None


@router.get("", response_model=RingPage)
def list_rings(runner: RunnerDep, _: ReadRings, run_id: RunId = None,
               min_score: Score = None, max_score: Score = None,
               min_size: Annotated[int | None, Query(ge=2, le=100_000)] = None,
               status: Literal["candidate", "confirmed_fraud"] | None = None,
               dealer_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
               sort: RingSort = "score", page: Page = 1, size: Size = 50) -> RingPage:
    """One page of a detection run's rings (the latest unless ``run_id``), best first,
    filtered by score, size, status and a dealer among the members."""
    return browse.list_rings(runner, run_id=run_id, page=page, size=size,
                             min_score=min_score, max_score=max_score, min_size=min_size,
                             status=status, dealer_id=dealer_id, sort=sort)


@router.get("/{ring_id}", response_model=RingDetail)
def ring(ring_id: RingId, runner: RunnerDep, _: ReadRings,
         config: Annotated[RingConfig, Depends(ring_config)], run_id: RunId = None
         ) -> RingDetail:
    """One ring: reasons, members (masked), the identifiers they share, timeline, how it
    grew across runs, and its graph in the neighbourhood view's shape."""
    return browse.ring_detail(runner, ring_id, run_id, config.fpd_grace_days)


@router.get("/{ring_id}/report", response_class=Response,
            responses={200: {"content": {t: {} for t in download.MEDIA_TYPES.values()},
                             "description": "The file, as an attachment"}})
def report(ring_id: RingId, runner: RunnerDep,
           user: Annotated[User, Depends(require(Permission.EXPORT_REPORTS))],
           config: Annotated[RingConfig, Depends(ring_config)], format: Format = "html",
           run_id: RunId = None) -> Response:
    """The ring's report or export: html, pdf, xlsx, json, graphml, gexf, or csv (a ZIP of
    the rings, members and shared-identifier tables). Every download is audited."""
    browse.ring_key(runner, ring_id, run_id)  # 404 before any work
    file = download.ring_file(runner, ring_id, format, config, run_id)
    audit.record(runner, actor=user.username, at=datetime.now(UTC), action="ring.export",
                 target=ring_id, params={"format": format, "run_id": run_id,
                                         "bytes": len(file.data)})
    return Response(file.data, media_type=file.media_type, headers={
        "Content-Disposition": f'attachment; filename="{file.filename}"'})


@router.post("/{ring_id}/confirm", response_model=ApprovalView, status_code=202)
def confirm(ring_id: RingId, body: RingConfirmIn, ctx: LifecycleDep,
            user: Annotated[User, Depends(require(Permission.WORK_CASES))]) -> ApprovalView:
    """Ask to confirm the ring as fraud (labels its members, lists their identifiers):
    four eyes, so 202 with the pending request; a different person approves it."""
    browse.ring_key(ctx.runner, ring_id)  # the latest run must hold it
    return ApprovalView.of(approvals.request(
        ctx.runner, approvals.Action.CONFIRM_RING_FRAUD, {"ring_id": ring_id},
        requested_by=user.username, reason=body.reason, at=datetime.now(UTC)))
