"""Rings through the API: the list with filters and paging, one ring whole, its report in
every export format, and confirming a ring as fraud with four eyes.

One detection over a small hand-built graph serves the read-only tests of this module
(``ringed``); the tests that write start from their own graph.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.roles import Role
from fraudgraph.settings import Settings
from graph.privacy import Pseudonymiser
from graph.runner import QueryRunner
from ingest.pipeline import ingest_folder
from rings.detect import DetectionResult, run_detection
from tests.api.conftest import auth
from tests.conftest import WIPE
from tests.rings.test_detect_neo4j import CONFIG, NOW, ring_rows
from tests.utils import dealer_row, export, write_table

RING_MEMBERS = ["APP000001", "APP000002", "APP000003", "APP000004"]
CLEAR_ACCOUNT = "6222000011112222"  # APP1 and APP2's shared payout account


def load_ring_graph(runner: QueryRunner, pseudo: Pseudonymiser, folder: Path) -> None:
    """ring_rows(): APP1-4 a ring (moved to dealer D2) on one device and two accounts;
    APP1 labelled fraud; APP2's first installment unpaid long after it fell due."""
    rows = ring_rows()
    for row in rows[:4]:
        row["dealer_id"] = "D2"
    export(folder, rows, [dealer_row("D1"), dealer_row("D2")])
    write_table(folder, "labels", [{"application_id": "APP000001", "label": "fraud",
                                    "source": "investigation",
                                    "labeled_at": "2026-06-01T10:00:00"}])
    write_table(folder, "repayments", [
        {"application_id": "APP000002", "installment_no": "1", "due_date": "2026-04-02",
         "amount_due": "3000"},
        {"application_id": "APP000005", "installment_no": "1", "due_date": "2026-04-05",
         "amount_due": "3000", "paid_date": "2026-06-30", "amount_paid": "3000"}])
    ingest_folder(folder, runner, pseudo, folder.parent / "reports")


@pytest.fixture(scope="module")
def ringed(_session_runner: QueryRunner, pseudo: Pseudonymiser,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[DetectionResult]:
    _session_runner.write(WIPE)
    load_ring_graph(_session_runner, pseudo, tmp_path_factory.mktemp("api-rings") / "export")
    yield run_detection(_session_runner, CONFIG, now=NOW)
    _session_runner.write(WIPE)


@pytest.fixture(scope="module")
def api(api_settings: Settings, ringed: DetectionResult) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings)) as test_client:
        yield test_client


def _problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return dict(response.json())


def test_the_list_pages_and_filters_the_latest_run(api: TestClient,
                                                   ringed: DetectionResult) -> None:
    headers = auth(Role.ANALYST)
    page = api.get("/v1/rings", headers=headers).json()
    assert page["run_id"] == ringed.run_id
    assert page["total"] == 1 and page["page"] == 1 and page["size"] == 50
    [ring] = page["items"]
    assert ring["ring_id"] == ringed.ring_ids[0] and ring["size"] == 4
    assert ring["status"] == "candidate" and ring["dealers"] == 1
    assert "KNOWN_FRAUD" in [r["code"] for r in ring["reasons"]]

    def total(**params: object) -> int:
        response = api.get("/v1/rings", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return int(response.json()["total"])

    assert total(dealer_id="D2") == 1 and total(dealer_id="D1") == 0
    assert total(min_score=ring["score"]) == 1 and total(min_score=min(100, ring["score"] + 1)) == 0
    assert total(max_score=max(0, ring["score"] - 1)) == 0
    assert total(min_size=4) == 1 and total(min_size=5) == 0
    assert total(status="confirmed_fraud") == 0
    assert total(sort="size") == total(sort="last_seen") == 1
    assert total(run_id=ringed.run_id) == 1
    second = api.get("/v1/rings", params={"page": 2, "size": 1}, headers=headers).json()
    assert second["items"] == [] and second["total"] == 1


@pytest.mark.parametrize("params, where", [
    ({"page": 0}, "query.page"), ({"size": 201}, "query.size"), ({"size": "many"}, "query.size"),
    ({"min_score": -1}, "query.min_score"), ({"sort": "name"}, "query.sort"),
    ({"status": "guilty"}, "query.status"), ({"run_id": "x y"}, "query.run_id"),
])
def test_bad_paging_and_filters_are_422_naming_the_parameter(
        api: TestClient, params: dict, where: str) -> None:
    body = _problem(api.get("/v1/rings", params=params, headers=auth(Role.ANALYST)), 422)
    assert [e["where"] for e in body["errors"]] == [where]


def test_unknown_ring_or_run_is_a_404_problem(api: TestClient, ringed: DetectionResult) -> None:
    headers = auth(Role.INVESTIGATOR)
    assert "R-NOPE" in _problem(api.get("/v1/rings/R-NOPE", headers=headers), 404)["detail"]
    _problem(api.get("/v1/rings", params={"run_id": "rings-none"}, headers=headers), 404)
    _problem(api.get(f"/v1/rings/{ringed.ring_ids[0]}", params={"run_id": "rings-none"},
                     headers=headers), 404)
    _problem(api.get("/v1/rings/R-NOPE/report", params={"format": "pdf"}, headers=headers), 404)


def test_one_ring_whole_and_masked(api: TestClient, ringed: DetectionResult) -> None:
    response = api.get(f"/v1/rings/{ringed.ring_ids[0]}", headers=auth(Role.INVESTIGATOR))
    assert response.status_code == 200, response.text
    ring = response.json()
    assert [m["application_id"] for m in ring["members"]] == RING_MEMBERS
    assert all("*" in m["applicant"] for m in ring["members"])
    assert {m["dealer_id"] for m in ring["members"]} == {"D2"}
    assert {m["label"] for m in ring["members"]} == {"fraud", None}
    kinds = sorted((s["kind"], len(s["applications"]), s["degree"])
                   for s in ring["shared_identifiers"])
    # The showroom IP and the factory switchboard are shared too, and their degree (all
    # ten applications) shows them as the hubs they are.
    assert kinds == [("BankAccount", 2, 2), ("BankAccount", 2, 2), ("Device", 4, 4),
                     ("IP", 4, 10), ("Phone", 4, 10)]
    accounts = [s for s in ring["shared_identifiers"] if s["kind"] == "BankAccount"]
    assert all("*" in s["display"] for s in accounts)
    assert CLEAR_ACCOUNT not in response.text and '"enc"' not in response.text
    events = [(e["application_id"], e["event"]) for e in ring["timeline"]]
    assert ("APP000001", "submitted at dealer D2") in events
    assert ("APP000002", "first installment unpaid") in events
    assert ("APP000001", "labelled fraud") in events
    assert [h["run_id"] for h in ring["history"]] == [ringed.run_id]
    node_ids = {n["id"] for n in ring["graph"]["nodes"]}
    assert {f"Application:{a}" for a in RING_MEMBERS} <= node_ids
    assert len(node_ids) == 4 + 5
    assert all(e["source"] in node_ids and e["target"] in node_ids
               for e in ring["graph"]["edges"])
    assert len(ring["graph"]["edges"]) == 4 + 2 + 2 + 4 + 4


FILES = {
    "html": ("text/html; charset=utf-8", ".html"), "pdf": ("application/pdf", ".pdf"),
    "json": ("application/json", ".json"), "graphml": ("application/graphml+xml", ".graphml"),
    "gexf": ("application/gexf+xml", ".gexf"), "csv": ("application/zip", "-csv.zip"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
}


def test_the_report_in_every_format_each_download_audited(
        api: TestClient, ringed: DetectionResult, tmp_path: Path) -> None:
    ring_id = ringed.ring_ids[0]
    bodies = {}
    for fmt, (media_type, suffix) in FILES.items():
        response = api.get(f"/v1/rings/{ring_id}/report", params={"format": fmt},
                           headers=auth(Role.ANALYST, "an.wu"))
        assert response.status_code == 200, (fmt, response.text[:300])
        assert response.headers["content-type"] == media_type
        assert response.headers["content-disposition"] == \
            f'attachment; filename="ring-{ring_id}{suffix}"'
        bodies[fmt] = response.content
    assert bodies["pdf"].startswith(b"%PDF") and bodies["xlsx"].startswith(b"PK")
    assert ring_id in bodies["html"].decode("utf-8")
    assert CLEAR_ACCOUNT not in bodies["html"].decode("utf-8")
    payload = json.loads(bodies["json"])
    assert [m["application_id"] for m in payload["rings"][0]["members"]] == RING_MEMBERS
    with zipfile.ZipFile(io.BytesIO(bodies["csv"])) as archive:
        assert sorted(archive.namelist()) == ["ring_identifiers.csv", "ring_members.csv",
                                              "rings.csv"]
    (tmp_path / "ring.graphml").write_bytes(bodies["graphml"])
    graph = nx.read_graphml(tmp_path / "ring.graphml")
    assert set(RING_MEMBERS) <= set(graph.nodes)
    audit = api.get("/v1/audit", params={"target": ring_id}, headers=auth(Role.ADMIN)).json()
    exports = [e for e in audit if e["action"] == "ring.export"]
    assert sorted(e["params"]["format"] for e in exports) == sorted(FILES)
    assert {e["actor"] for e in exports} == {"an.wu"}


def test_an_unknown_format_is_a_422_and_nothing_is_audited(
        api: TestClient, ringed: DetectionResult) -> None:
    ring_id = ringed.ring_ids[0]
    before = len(api.get("/v1/audit", params={"target": ring_id},
                         headers=auth(Role.ADMIN)).json())
    body = _problem(api.get(f"/v1/rings/{ring_id}/report", params={"format": "docx"},
                            headers=auth(Role.ANALYST)), 422)
    assert body["errors"][0]["where"] == "query.format"
    after = api.get("/v1/audit", params={"target": ring_id}, headers=auth(Role.ADMIN)).json()
    assert len(after) == before


def test_without_a_detection_run_the_list_is_empty(client: TestClient) -> None:
    page = client.get("/v1/rings", headers=auth(Role.ANALYST)).json()
    assert page == {"run_id": None, "items": [], "total": 0, "page": 1, "size": 50}
    _problem(client.get("/v1/rings/R-1", headers=auth(Role.ANALYST)), 404)


def test_confirming_a_ring_takes_two_people(client: TestClient, runner: QueryRunner,
                                            pseudo: Pseudonymiser, tmp_path: Path) -> None:
    load_ring_graph(runner, pseudo, tmp_path / "export")
    ring_id = run_detection(runner, CONFIG, now=NOW).ring_ids[0]
    maker, checker = auth(Role.INVESTIGATOR, "inv.li"), auth(Role.INVESTIGATOR, "inv.wang")
    _problem(client.post(f"/v1/rings/{ring_id}/confirm", json={"reason": "no"},
                         headers=maker), 422)
    _problem(client.post("/v1/rings/R-NOPE/confirm", json={"reason": "shared device"},
                         headers=maker), 404)
    asked = client.post(f"/v1/rings/{ring_id}/confirm",
                        json={"reason": "one device, two payout accounts"}, headers=maker)
    assert asked.status_code == 202, asked.text
    request = asked.json()
    assert request["status"] == "pending" and request["action"] == "confirm_ring_fraud"
    assert [a["approval_id"] for a in client.get("/v1/approvals", headers=checker).json()] \
        == [request["approval_id"]]
    own = _problem(client.post(f"/v1/approvals/{request['approval_id']}/approve",
                               headers=maker), 403)
    assert "maker" in own["detail"]
    _problem(client.post(f"/v1/approvals/{request['approval_id']}/approve",
                         headers=auth(Role.ANALYST)), 403)
    approved = client.post(f"/v1/approvals/{request['approval_id']}/approve", headers=checker)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["result"]["members"] == 4
    confirmed = client.get("/v1/rings", params={"status": "confirmed_fraud"},
                           headers=checker).json()
    assert [r["ring_id"] for r in confirmed["items"]] == [ring_id]
    again = _problem(client.post(f"/v1/approvals/{request['approval_id']}/reject",
                                 headers=auth(Role.ADMIN)), 403)
    assert "already approved" in again["detail"]
