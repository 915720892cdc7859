"""Property-based requests from the OpenAPI document: no input gets a server error."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from pydantic import SecretStr

from api.main import create_app
from api.roles import Role
from fraudgraph.settings import Settings
from graph.privacy import new_key
from tests.api.conftest import JWT_SECRET, auth
from tests.conftest import TEST_PASSWORD

# The schema is collected at import, so the app is built here, over the session's test
# server (same port and password as tests/conftest.py); the fixture below opens it.
APP = create_app(Settings(
    neo4j_uri=f"bolt://127.0.0.1:{os.environ.get('FRAUDGRAPH_TEST_NEO4J_PORT', '7697')}",
    neo4j_password=TEST_PASSWORD, hash_key=new_key(), encryption_key=new_key(),
    jwt_secret=SecretStr(JWT_SECRET)))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture
def open_app(runner: object) -> Iterator[None]:
    with TestClient(APP):  # runs the lifespan: the app's driver is open
        yield


@schema.parametrize()
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_server_errors_for_any_input(case, open_app: None) -> None:  # type: ignore
    response = case.call(headers=auth(Role.ADMIN, "schemathesis"))
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
    if response.status_code >= 400:
        content_type = response.headers["content-type"]
        # Schemathesis' response object keeps every header value as a list.
        assert "application/problem+json" in (
            content_type if isinstance(content_type, list) else [content_type])
