from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import CacheDep, RunnerDep, SettingsDep, require
from api.roles import Permission
from api.security import User
from gnn import overview
from gnn.overview import ModelOverview

router = APIRouter(prefix="/v1/model", tags=["model"])


@router.get("", response_model=ModelOverview)
def model(runner: RunnerDep, settings: SettingsDep, cache: CacheDep,
          _: Annotated[User, Depends(require(Permission.READ_MODEL))]) -> ModelOverview:
    """The champion and challenger models with their test figures beside the baselines,
    the monthly score distribution and its drift (PSI against the first month); the
    distribution is kept for ``FRAUDGRAPH_API_CACHE_SECONDS``."""
    return overview.overview(runner, settings, cache)
