from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import RunnerDep, SettingsDep
from api.problems import ApiProblem
from api.schemas import Token
from api.security import AuthError, authenticate, issue_token

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/token", response_model=Token)
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], runner: RunnerDep,
          settings: SettingsDep) -> Token:
    """Exchange a username and password for a bearer token."""
    try:
        user = authenticate(runner, form.username, form.password)
    except AuthError as exc:
        raise ApiProblem(401, "Not authenticated", str(exc),
                         {"WWW-Authenticate": "Bearer"}) from None
    access = issue_token(user, settings.jwt_secret.get_secret_value(), settings.token_minutes)
    return Token(access_token=access, role=user.role.value)
