"""Neo4j going away and coming back: 503 with Retry-After, then recovery by itself."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.roles import Role
from fraudgraph.settings import Settings
from graph import server
from tests.api.conftest import auth


def test_503_while_neo4j_is_down_then_recovers(client: TestClient,
                                               neo4j_server: Settings) -> None:
    headers = auth(Role.INVESTIGATOR)
    params = {"node": "Dealer:D1"}
    assert client.get("/health").status_code == 200
    server.stop(neo4j_server)
    try:
        down = client.get("/v1/graph/neighbourhood", params=params, headers=headers)
        assert down.status_code == 503
        assert down.headers["retry-after"] == "7"
        assert down.headers["content-type"] == "application/problem+json"
        assert client.get("/health").json() == {"status": "degraded", "neo4j": "down",
                                                "version": "0.1.0"}
    finally:
        server.start(neo4j_server)
    assert client.get("/health").status_code == 200
    back = client.get("/v1/graph/neighbourhood", params=params, headers=headers)
    assert back.status_code == 404  # answered again: the dealer simply is not there
