from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from api.roles import Role
from api.security import User, issue_token
from fraudgraph.settings import Settings

JWT_SECRET = "test-secret-" + "x" * 40


@pytest.fixture(scope="session")
def api_settings(neo4j_server: Settings) -> Settings:
    return neo4j_server.model_copy(update={"jwt_secret": SecretStr(JWT_SECRET), "retry_after_s": 7})


@pytest.fixture
def client(api_settings: Settings, runner: object) -> Iterator[TestClient]:
    """The API over the (wiped) test database."""
    with TestClient(create_app(api_settings)) as test_client:
        yield test_client


def auth(role: Role, username: str | None = None) -> dict[str, str]:
    token = issue_token(User(username=username or f"{role.value}-1", role=role), JWT_SECRET, 5)
    return {"Authorization": f"Bearer {token}"}
