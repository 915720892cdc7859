"""The dealers league table, the model page, and the watchlist's four-eyes request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from api.roles import Role
from fraudgraph.settings import Settings
from gnn.overview import psi
from graph.privacy import Pseudonymiser
from graph.runner import Query, QueryRunner
from rings.detect import run_detection
from tests.api.conftest import JWT_SECRET, auth
from tests.api.test_rings import load_ring_graph
from tests.rings.test_detect_neo4j import CONFIG, NOW

SET_SCORES = Query(
    "test.set_scores",
    "UNWIND $rows AS r MATCH (a:Application {application_id: r.id}) "
    "SET a.gnn_score = r.score, a.tier = r.tier, a.submitted_at = datetime(r.at)",
)
COUNT_APPROVALS = Query("test.count_approvals", "MATCH (p:Approval) RETURN count(p) AS n")


def _problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return dict(response.json())


def test_the_league_puts_the_ring_dealer_first(client: TestClient, runner: QueryRunner,
                                               pseudo: Pseudonymiser, tmp_path: Path) -> None:
    load_ring_graph(runner, pseudo, tmp_path / "export")
    ring_id = run_detection(runner, CONFIG, now=NOW).ring_ids[0]
    headers = auth(Role.INVESTIGATOR)
    page = client.get("/v1/dealers", headers=headers).json()
    assert page["total"] == 2 and page["run_id"]
    first, second = page["items"]
    assert first["dealer_id"] == "D2" and first["name"] == "上海D2汽车销售服务有限公司"
    assert (first["applications"], first["ring_members"], first["rings"]) == (4, 4, 1)
    assert first["ring_member_share"] == 1.0 and first["ring_ids"] == [ring_id]
    assert (first["fraud_labels"], first["first_payment_defaults"]) == (1, 1)
    assert first["agents"] == [{"agent_id": "SA1", "applications": 4, "ring_members": 4}]
    assert (second["dealer_id"], second["applications"], second["ring_members"]) == ("D1", 6, 0)
    assert first["risk_score"] > second["risk_score"]
    by_volume = client.get("/v1/dealers", params={"sort": "applications", "size": 1},
                           headers=headers).json()
    assert [d["dealer_id"] for d in by_volume["items"]] == ["D1"] and by_volume["total"] == 2
    _problem(client.get("/v1/dealers", params={"sort": "name"}, headers=headers), 422)
    _problem(client.get("/v1/dealers", params={"page": -1}, headers=headers), 422)


def test_the_league_of_an_empty_portfolio_is_empty(client: TestClient) -> None:
    page = client.get("/v1/dealers", headers=auth(Role.ANALYST)).json()
    assert page == {"run_id": None, "items": [], "total": 0, "page": 1, "size": 50}


def _register(root: Path, version: str, role: str, kind: str = "gnn") -> None:
    """A registered model as the registry writes it (meta.json only: no weights needed)."""
    figures = {"gnn": {"test": {"roc_auc": 0.9, "average_precision": 0.8,
                                "recall_at_1pct": 0.3}},
               "gbt_own": {"test": {"roc_auc": 0.8, "average_precision": 0.6,
                                    "recall_at_1pct": 0.2}}}
    (root / version).mkdir(parents=True)
    (root / version / "meta.json").write_text(json.dumps({
        "version": version, "created_at": "2026-11-01T10:00:00Z", "kind": kind,
        "spec": {"app_features": ["loan_to_price", "term_months"]},
        "metrics": {"models": figures}}), encoding="utf-8")
    (root / f"{role}.json").write_text(json.dumps({"version": version}), encoding="utf-8")


@pytest.fixture
def model_client(api_settings: Settings, runner: QueryRunner, tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = api_settings.model_copy(update={"gnn_model_dir": tmp_path / "models",
                                               "jwt_secret": SecretStr(JWT_SECRET)})
    with TestClient(create_app(settings)) as test_client:
        yield test_client, tmp_path / "models"


def test_the_model_page(model_client, runner: QueryRunner, pseudo: Pseudonymiser,  # type: ignore[no-untyped-def]
                        tmp_path: Path) -> None:
    client, root = model_client
    headers = auth(Role.ANALYST)
    assert "fraudgraph train" in _problem(client.get("/v1/model", headers=headers), 404)["detail"]
    load_ring_graph(runner, pseudo, tmp_path / "export")
    # March: low scores, tier A; April: the same shape shifted high, two tier C.
    rows = [{"id": f"APP{n:06d}", "score": 0.05 + 0.01 * n, "tier": "A",
             "at": f"2026-03-0{n}T10:00:00+08:00"} for n in range(1, 6)]
    rows += [{"id": f"APP{n:06d}", "score": 0.85 + 0.01 * n, "tier": "C" if n > 8 else "A",
              "at": f"2026-04-0{n - 5}T10:00:00+08:00"} for n in range(6, 11)]
    runner.write(SET_SCORES, rows=rows)
    _register(root, "gnn-1", "champion")
    overview = client.get("/v1/model", headers=headers)
    assert overview.status_code == 200, overview.text
    body = overview.json()
    champion = body["champion"]
    assert (champion["version"], champion["kind"]) == ("gnn-1", "gnn")
    assert champion["metrics"] == {"roc_auc": 0.9, "average_precision": 0.8,
                                   "recall_at_1pct": 0.3}
    assert [c["model"] for c in champion["comparison"]] == ["gbt_own", "gnn"]
    assert champion["feature_schema"] == ["loan_to_price", "term_months"]
    assert body["challenger"] is None
    march, april = body["score_distribution"]
    assert (march["period"], march["applications"], march["share_tier_c"]) == ("2026-03", 5, 0)
    assert (april["period"], april["share_tier_c"]) == ("2026-04", 0.4)
    assert march["p50"] == pytest.approx(0.08) and april["mean"] == pytest.approx(0.93)
    assert [d["period"] for d in body["drift"]] == ["2026-03", "2026-04"]
    assert body["drift"][0]["psi"] == 0 and body["drift"][1]["psi"] > 0.25
    _register(root, "gbt-2", "challenger", kind="gbt_own")
    challenger = client.get("/v1/model", headers=headers).json()["challenger"]
    assert (challenger["kind"], challenger["metrics"]["roc_auc"]) == ("gbt_own", 0.8)


def test_psi_is_zero_for_the_same_shape_and_grows_with_the_shift() -> None:
    reference = [10, 20, 30, 20, 10, 5, 3, 1, 1, 0]
    assert psi(reference, [2 * x for x in reference]) == pytest.approx(0)
    small = psi(reference, [10, 20, 30, 20, 10, 5, 3, 1, 0, 1])
    large = psi(reference, list(reversed(reference)))
    assert 0 < small < large


@pytest.mark.parametrize("body, where", [
    ({"kind": "email", "value": "a@b.cn", "reason": "seen in ring"}, "body.kind"),
    ({"kind": "phone", "value": "", "reason": "seen in ring"}, "body.value"),
    ({"kind": "phone", "value": "13800000001", "reason": "no"}, "body.reason"),
    ({"kind": "phone", "reason": "seen in ring"}, "body.value"),
])
def test_a_bad_watchlist_request_is_a_422_and_stores_nothing(
        client: TestClient, runner: QueryRunner, body: dict, where: str) -> None:
    problem = _problem(client.post("/v1/watchlist", json=body,
                                   headers=auth(Role.INVESTIGATOR)), 422)
    assert [e["where"] for e in problem["errors"]] == [where]
    assert runner.read(COUNT_APPROVALS) == [{"n": 0}]


def test_a_value_that_does_not_normalise_is_a_422_naming_the_value(
        client: TestClient, runner: QueryRunner) -> None:
    problem = _problem(client.post("/v1/watchlist", headers=auth(Role.INVESTIGATOR), json={
        "kind": "id_number", "value": "310101199001011230", "reason": "seen in ring"}), 422)
    assert problem["detail"].startswith("value")
    assert runner.read(COUNT_APPROVALS) == [{"n": 0}]


def test_a_watchlist_entry_takes_two_people(client: TestClient) -> None:
    maker, checker = auth(Role.INVESTIGATOR, "inv.li"), auth(Role.INVESTIGATOR, "inv.wang")
    asked = client.post("/v1/watchlist", headers=maker, json={
        "kind": "phone", "value": "+86 138-0000-0001", "reason": "applicant of a fraud ring"})
    assert asked.status_code == 202, asked.text
    request = asked.json()
    assert request["status"] == "pending" and request["action"] == "watchlist_add"
    assert request["params"] == {"label": "Phone", "masked": "138****0001"}
    assert "13800000001" not in asked.text
    assert client.get("/v1/watchlist", headers=checker).json() == []
    _problem(client.post(f"/v1/approvals/{request['approval_id']}/approve", headers=maker), 403)
    approved = client.post(f"/v1/approvals/{request['approval_id']}/approve", headers=checker)
    assert approved.status_code == 200, approved.text
    [entry] = client.get("/v1/watchlist", headers=checker).json()
    assert (entry["masked"], entry["added_by"], entry["approved_by"]) == \
        ("138****0001", "inv.li", "inv.wang")
    _problem(client.get("/v1/approvals/APR-nope", headers=checker), 404)
