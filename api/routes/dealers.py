from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import CacheDep, RunnerDep, require
from api.roles import Permission
from api.routes.rings import Page, RunId, Size, ring_config
from api.security import User
from rings import dealers
from rings.config import RingConfig
from rings.dealers import DealerPage, DealerSort

router = APIRouter(prefix="/v1/dealers", tags=["rings"])


@router.get("", response_model=DealerPage)
def league(runner: RunnerDep, cache: CacheDep,
           _: Annotated[User, Depends(require(Permission.READ_RINGS))],
           config: Annotated[RingConfig, Depends(ring_config)],
           sort: Annotated[DealerSort, Query(description="risk, applications or "
                                                      "ring_members")] = "risk",
           page: Page = 1, size: Size = 50, run_id: RunId = None) -> DealerPage:
    """The dealers league table: ring members, rings, fraud labels and first-payment
    defaults per dealer and agent, with a risk score (see ``rings.dealers``). The table is
    kept for ``FRAUDGRAPH_API_CACHE_SECONDS`` per detection run: it reads every
    application."""
    return dealers.league(runner, sort=sort, page=page, size=size,
                          grace_days=config.fpd_grace_days, run_id=run_id, cache=cache)
