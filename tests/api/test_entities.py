"""Look-ups, neighbourhoods, paths and audited reveals over a hand-built graph."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.roles import Role
from graph.privacy import Pseudonymiser
from graph.runner import QueryRunner
from ingest.pipeline import ingest_folder
from tests.api.conftest import auth
from tests.utils import application_row, export


@pytest.fixture
def two_apps_one_device(runner: QueryRunner, pseudo: Pseudonymiser, tmp_path: Path) -> None:
    rows = [application_row(1, device_id="shared-tablet"),
            application_row(2, device_id="shared-tablet")]
    ingest_folder(export(tmp_path / "e", rows), runner, pseudo, tmp_path / "runs",
                  today=date(2026, 11, 1))


def test_lookup_normalises_like_ingest_and_masks(client: TestClient,
                                                 two_apps_one_device: None) -> None:
    response = client.post("/v1/entities/lookup", headers=auth(Role.UNDERWRITER),
                           json={"kind": "phone", "value": "+86 138-0000-0001"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["node"]["caption"] == "138****0001"
    assert "enc" not in body["node"]["props"]
    assert "13800000001" not in response.text
    assert [(a["application_id"], a["relationship"]) for a in body["applications"]] == [
        ("APP000001", "APPLICANT_PHONE")]


def test_lookup_of_an_invalid_value_is_a_422_problem(client: TestClient) -> None:
    response = client.post("/v1/entities/lookup", headers=auth(Role.INVESTIGATOR),
                           json={"kind": "vehicle", "value": "OOPS"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "VIN" in response.json()["detail"]
    bad_kind = client.post("/v1/entities/lookup", headers=auth(Role.INVESTIGATOR),
                           json={"kind": "horoscope", "value": "leo"})
    assert bad_kind.status_code == 422
    assert bad_kind.json()["errors"][0]["where"] == "body.kind"


def test_neighbourhood_and_path_through_the_shared_device(client: TestClient,
                                                          two_apps_one_device: None) -> None:
    headers = auth(Role.INVESTIGATOR)
    response = client.get("/v1/graph/neighbourhood", headers=headers,
                          params={"node": "Application:APP000001", "hops": 2, "limit": 500})
    assert response.status_code == 200
    ids = {node["id"] for node in response.json()["nodes"]}
    assert "Device:shared-tablet" in ids and "Application:APP000002" in ids
    small = client.get("/v1/graph/neighbourhood", headers=headers,
                       params={"node": "Application:APP000001", "hops": 2, "limit": 3}).json()
    assert len(small["nodes"]) == 3 and small["truncated"] is True
    path = client.get("/v1/graph/path", headers=headers,
                      params={"from": "Application:APP000001", "to": "Application:APP000002"})
    assert [n["id"] for n in path.json()["nodes"]] in (
        ["Application:APP000001", "Device:shared-tablet", "Application:APP000002"],
        ["Application:APP000001", "Dealer:D1", "Application:APP000002"],
        ["Application:APP000001", "SalesAgent:SA1", "Application:APP000002"],
        ["Application:APP000001", "Phone:" + path.json()["nodes"][1]["id"].split(":", 1)[1],
         "Application:APP000002"],
    )
    assert len(path.json()["edges"]) == 2


def test_bad_node_reference_is_a_422_problem(client: TestClient) -> None:
    response = client.get("/v1/graph/neighbourhood", headers=auth(Role.ANALYST),
                          params={"node": "User:admin"})
    assert response.status_code == 422
    assert "Label:key" in response.json()["detail"]


def test_reveal_is_audited_and_only_for_allowed_roles(client: TestClient,
                                                      two_apps_one_device: None,
                                                      pseudo: Pseudonymiser) -> None:
    ref = "Phone:" + pseudo.token("phone", "+8613800000001")
    body = {"node": ref, "reason": "case 17: verify the applicant's phone"}
    assert client.post("/v1/entities/reveal", json=body,
                       headers=auth(Role.ANALYST)).status_code == 403
    response = client.post("/v1/entities/reveal", json=body,
                           headers=auth(Role.INVESTIGATOR, "wang.fang"))
    assert response.status_code == 200
    assert response.json()["value"] == "+8613800000001"
    events = client.get("/v1/audit", params={"target": ref}, headers=auth(Role.ADMIN)).json()
    assert [(e["actor"], e["action"], e["params"]["reason"]) for e in events] == [
        ("wang.fang", "reveal_pii", body["reason"])]


def test_an_applicants_name_is_revealed_from_the_application_and_audited(
        client: TestClient, two_apps_one_device: None) -> None:
    body = {"node": "Application:APP000002", "reason": "ring R-1: confirm the member's name"}
    assert client.post("/v1/entities/reveal", json=body,
                       headers=auth(Role.UNDERWRITER)).status_code == 403
    response = client.post("/v1/entities/reveal", json=body,
                           headers=auth(Role.INVESTIGATOR, "li.na"))
    assert response.status_code == 200, response.text
    assert response.json()["value"] == "张三"
    events = client.get("/v1/audit", params={"target": body["node"]},
                        headers=auth(Role.ADMIN)).json()
    assert [(e["actor"], e["action"]) for e in events] == [("li.na", "reveal_pii")]
    # A node kind with no personal value is a 404 problem, and nothing is audited for it.
    dealer = client.post("/v1/entities/reveal", headers=auth(Role.INVESTIGATOR),
                         json={"node": "Dealer:D1", "reason": "no personal value here"})
    assert dealer.status_code == 404
    assert dealer.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/audit", params={"target": "Dealer:D1"},
                      headers=auth(Role.ADMIN)).json() == []
