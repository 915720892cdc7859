"""Loans by collection stage crossed with ring-risk band, on a hand-built graph: exact
counts, overdue amounts and shares, through the domain function and the API route."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from api.roles import Role
from fraudgraph.settings import Settings
from graph.runner import Query, QueryRunner
from lifecycle.portfolio import LADDER, portfolio_figures
from tests.api.conftest import JWT_SECRET, auth

BUILD = Query(
    "test.lifecycle.portfolio.build",
    """
    UNWIND $rings AS g CREATE (:Ring {ring_id: g.id, score: g.score})
    WITH count(*) AS rings
    UNWIND $apps AS r
    CREATE (a:Application {application_id: r.id, dealer_id: 'D1', status: r.status,
                           tier: 'A', collection_stage: r.stage, overdue_amount: r.overdue,
                           ring_score: r.decision_ring})
    WITH a, r
    OPTIONAL MATCH (g:Ring {ring_id: r.ring})
    FOREACH (_ IN CASE WHEN g IS NULL THEN [] ELSE [1] END | CREATE (a)-[:MEMBER_OF]->(g))
    """,
)
# Ring scores are points out of 100: 30 is "ring risk low", 80 "ring risk high".
RINGS = [{"id": "R-low", "score": 30.0}, {"id": "R-high", "score": 80.0}]


def _app(n: int, status: str, stage: str | None = None, overdue: float | None = None,
         ring: str | None = None, decision_ring: float | None = None) -> dict[str, object]:
    return {"id": f"APP{n}", "status": status, "stage": stage, "overdue": overdue,
            "ring": ring, "decision_ring": decision_ring}


APPS = [
    # No ring: four loans, one each current, M1, M2 and paid off.
    _app(1, "current", "none", 0.0), _app(2, "delinquent", "m1", 2500.0),
    _app(3, "delinquent", "m2", 5000.0), _app(4, "paid_off", "none", 0.0),
    # Not loans, so in no cell and no denominator, whatever stage they carry.
    _app(5, "declined"), _app(6, "approved", "m1", 99.0, ring="R-high"),
    # Low ring risk: a reminder (due in 3 days) and an M1.
    _app(7, "current", "reminder", 0.0, ring="R-low"),
    _app(8, "delinquent", "m1", 2500.0, ring="R-low"),
    # High ring risk: an M3, two severe (one charged off), and one high through the ring
    # score of its decision only (no ring node), in M2.
    _app(9, "delinquent", "m3", 7500.0, ring="R-high"),
    _app(10, "charged_off", "severe", 10000.0, ring="R-high"),
    _app(11, "delinquent", "severe", 12000.0, ring="R-high"),
    _app(12, "delinquent", "m2", 3000.0, decision_ring=0.7),
]
#: (band, stage) -> (loans, overdue amount, band's loans, share); every other cell of a
#: band is zero.
EXPECTED = {
    ("no ring", "m1"): (1, 2500.0, 4, 0.25), ("no ring", "m2"): (1, 5000.0, 4, 0.25),
    ("ring risk low", "reminder"): (1, 0.0, 2, 0.5),
    ("ring risk low", "m1"): (1, 2500.0, 2, 0.5),
    ("ring risk high", "m2"): (1, 3000.0, 4, 0.25),
    ("ring risk high", "m3"): (1, 7500.0, 4, 0.25),
    ("ring risk high", "severe"): (2, 22000.0, 4, 0.5),
}
BAND_LOANS = {"no ring": 4, "ring risk low": 2, "ring risk high": 4}


def _as_table(cells: list[dict[str, object]]) -> dict[tuple[str, str], tuple[object, ...]]:
    return {(c["band"], c["stage"]): (c["loans"], c["overdue_amount"], c["band_loans"],
                                      c["share"]) for c in cells}  # type: ignore[misc]


def _expected() -> dict[tuple[str, str], tuple[object, ...]]:
    return {(band, stage): EXPECTED.get((band, stage), (0, 0.0, loans, 0.0))
            for band, loans in BAND_LOANS.items() for stage in LADDER}


def test_stages_are_crossed_with_ring_risk_bands(runner: QueryRunner) -> None:
    runner.write(BUILD, rings=RINGS, apps=APPS)
    figures = portfolio_figures(runner)
    cells = [c.model_dump() for c in figures.stage_by_ring_risk]
    # Bands from none to high, each in ladder order, zeros included.
    assert [(c["band"], c["stage"]) for c in cells] == list(_expected())
    assert _as_table(cells) == _expected()
    assert LADDER == ("reminder", "m1", "m2", "m3", "severe")
    # The uncrossed table follows the ladder too (the console charts it in this order).
    assert list(figures.delinquency_by_stage) == ["none", *LADDER]
    # The same loans as the uncrossed table: it sums over the bands.
    for stage in ("m1", "m2", "m3", "severe"):
        crossed = [c for c in cells if c["stage"] == stage]
        assert sum(c["loans"] for c in crossed) == figures.delinquency_by_stage[stage]["loans"]
        assert sum(c["overdue_amount"] for c in crossed) == pytest.approx(
            figures.delinquency_by_stage[stage]["overdue_amount"])


def test_a_portfolio_without_loans_has_an_empty_crossed_table(runner: QueryRunner) -> None:
    runner.write(BUILD, rings=RINGS, apps=[_app(5, "declined"), _app(6, "approved", "m1",
                                                                      99.0, ring="R-high")])
    assert portfolio_figures(runner).stage_by_ring_risk == []


@pytest.fixture
def client(neo4j_server: Settings, runner: QueryRunner) -> Iterator[TestClient]:
    settings = neo4j_server.model_copy(update={"jwt_secret": SecretStr(JWT_SECRET)})
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_the_portfolio_route_serves_the_crossed_table(client: TestClient,
                                                      runner: QueryRunner) -> None:
    runner.write(BUILD, rings=RINGS, apps=APPS)
    response = client.get("/v1/portfolio", headers=auth(Role.ANALYST))
    assert response.status_code == 200, response.text
    assert _as_table(response.json()["stage_by_ring_risk"]) == _expected()


@pytest.mark.parametrize("role", [Role.UNDERWRITER, Role.INVESTIGATOR])
def test_roles_without_portfolio_access_are_refused(client: TestClient, role: Role) -> None:
    response = client.get("/v1/portfolio", headers=auth(role))
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"},
                                     {"Authorization": "Basic YWRtaW46YWRtaW4="}])
def test_a_missing_or_broken_token_is_refused(client: TestClient,
                                              headers: dict[str, str]) -> None:
    response = client.get("/v1/portfolio", headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
