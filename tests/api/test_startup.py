"""What the API does once, at startup, so that no request pays it (the model packages
imported and the champion looked up before the first request is accepted), and what it
keeps per process: no per-value cache of pseudonyms, metrics labelled by route template."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.main import create_app
from api.roles import Role
from fraudgraph.settings import Settings
from graph.privacy import Pseudonymiser
from lifecycle.scorers import GnnScorer
from tests.api.conftest import auth
from tests.utils import application_row


def test_the_models_are_warmed_at_startup(api_settings: Settings, runner: object) -> None:
    app = create_app(api_settings)
    [gnn] = [s for s in app.state.scorers if isinstance(s, GnnScorer)]
    assert not gnn.ready
    with TestClient(app) as client:
        assert gnn.ready  # before any request asked for it
        decided = client.post("/v1/applications", json=application_row(1),
                              headers=auth(Role.UNDERWRITER))
        assert decided.status_code == 201, decided.text
        assert decided.headers["content-type"] == "application/json"
        assert decided.json()["signals"]["scores"][1]["unavailable_code"] == \
            "U_GNN_NO_CHAMPION"


def test_the_api_keeps_no_cache_of_pseudonyms(client: TestClient) -> None:
    pseudo = client.app.state.pseudo  # type: ignore[attr-defined]
    before = Pseudonymiser._protect.cache_info().currsize
    one = pseudo.protect("phone", "+8613800000999", "138****0999")
    two = pseudo.protect("phone", "+8613800000999", "138****0999")
    assert one.token == two.token and one.masked == two.masked
    assert pseudo.decrypt(one.encrypted) == pseudo.decrypt(two.encrypted) == "+8613800000999"
    assert Pseudonymiser._protect.cache_info().currsize == before


def test_metrics_are_labelled_by_route_template_not_by_id(client: TestClient) -> None:
    assert client.post("/v1/applications", json=application_row(1),
                       headers=auth(Role.UNDERWRITER)).status_code == 201
    assert client.get("/v1/applications/APP000001/risk",
                      headers=auth(Role.UNDERWRITER)).status_code == 200
    text = client.get("/metrics", headers=auth(Role.ADMIN)).text
    assert 'route="/v1/applications",status="201"' in text
    assert 'route="/v1/applications/{application_id}/risk",status="200"' in text
    assert "APP000001" not in text
