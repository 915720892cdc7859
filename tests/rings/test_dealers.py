"""The dealers league's risk score on a hand-built graph: exact figures, and a dealer with
no ring member, fraud label or first-payment default scoring 0 whatever the others do."""

from __future__ import annotations

import pytest

from graph.runner import Query, QueryRunner
from rings.dealers import PRIOR, risk_score, table

RUN = "run-test-dealers"
# D1: 6 applications by SA1, APP1-4 in one ring of the run, APP1 labelled fraud, APP1
# and APP2 with an unpaid first installment due before the cutoff. D2: 4 applications by
# SA2 with nothing against them (one paid first installment, one unpaid but not yet due
# by the cutoff). D3: 1 application in a ring of an older run only.
BUILD = Query(
    "test.rings.dealers.build",
    """
    UNWIND $apps AS r
    CREATE (a:Application {application_id: r.id, dealer_id: r.dealer,
                           sales_agent_id: r.agent, label: r.label})
    WITH a, r
    FOREACH (_ IN CASE WHEN r.ring IS NULL THEN [] ELSE [1] END |
        MERGE (g:Ring {ring_id: r.ring}) SET g.run_id = r.run
        CREATE (a)-[:MEMBER_OF]->(g))
    FOREACH (_ IN CASE WHEN r.due IS NULL THEN [] ELSE [1] END |
        CREATE (a)-[:HAS_INSTALLMENT]->(:Installment {
            installment_id: r.id + '-1', installment_no: 1, due_date: date(r.due),
            paid_date: CASE WHEN r.paid IS NULL THEN null ELSE date(r.paid) END}))
    """,
)
DEALERS = Query("test.rings.dealers.names",
                "UNWIND $ids AS id CREATE (:Dealer {dealer_id: id, name: 'Dealer ' + id})")


def _app(n: int, dealer: str, agent: str, **extra: object) -> dict[str, object]:
    return {"id": f"APP{n}", "dealer": dealer, "agent": agent, "label": None, "ring": None,
            "run": None, "due": None, "paid": None, **extra}


@pytest.fixture
def league(runner: QueryRunner) -> dict[str, object]:
    ring = {"ring": "R1", "run": RUN}
    apps = [_app(1, "D1", "SA1", label="fraud", due="2026-04-01", **ring),
            _app(2, "D1", "SA1", due="2026-04-01", **ring),
            _app(3, "D1", "SA1", **ring), _app(4, "D1", "SA1", **ring),
            _app(5, "D1", "SA1"), _app(6, "D1", "SA1"),
            _app(7, "D2", "SA2", label="legit", due="2026-04-01", paid="2026-06-30"),
            _app(8, "D2", "SA2", due="2026-06-25"), _app(9, "D2", "SA2"),
            _app(10, "D2", "SA2"),
            _app(11, "D3", "SA3", ring="R0", run="run-older")]
    runner.write(BUILD, apps=apps)
    runner.write(DEALERS, ids=["D1", "D2", "D3"])
    # The cutoff is the last paid date (30 June) less 15 days' grace: 15 June.
    return {row.dealer_id: row for row in table(runner, RUN, grace_days=15)}


def test_a_dealer_without_risk_evidence_scores_zero(league: dict) -> None:  # type: ignore[type-arg]
    d2 = league["D2"]
    assert (d2.applications, d2.ring_members, d2.fraud_labels,
            d2.first_payment_defaults) == (4, 0, 0, 0)
    assert d2.risk_score == 0.0
    # A ring of an older run is no evidence against the run asked for.
    d3 = league["D3"]
    assert (d3.ring_members, d3.rings, d3.risk_score) == (0, 0, 0.0)


def test_the_ring_dealers_score_is_its_evidence_damped_by_the_prior(league: dict  # type: ignore[type-arg]
                                                                    ) -> None:
    d1 = league["D1"]
    assert (d1.applications, d1.ring_members, d1.fraud_labels,
            d1.first_payment_defaults, d1.ring_ids) == (6, 4, 1, 2, ["R1"])
    # 100 * (0.5 * 4 + 0.3 * 1 + 0.2 * 2) / (6 + 50) = 270 / 56
    assert PRIOR == 50
    assert d1.risk_score == pytest.approx(round(270 / 56, 2)) == 4.82
    assert d1.ring_member_share == round(4 / 6, 4)
    assert [(a.agent_id, a.applications, a.ring_members) for a in d1.agents] == [
        ("SA1", 6, 4)]


def test_the_score_grows_with_evidence_and_small_dealers_are_damped() -> None:
    assert risk_score(0, 0, 0, 0) == 0.0
    assert risk_score(0, 0, 0, 5000) == 0.0
    assert 0 < risk_score(1, 0, 0, 3) < risk_score(2, 0, 0, 3) < risk_score(2, 1, 0, 3)
    # One ring member among three applications stays below 40 among 400.
    assert risk_score(1, 0, 0, 3) < risk_score(40, 0, 0, 400)
    assert risk_score(100, 100, 100, 100) == pytest.approx(100 * 100 / 150)


def test_no_installments_means_no_first_payment_defaults(runner: QueryRunner) -> None:
    runner.write(BUILD, apps=[_app(1, "D1", "SA1", label="fraud")])
    [row] = table(runner, None, grace_days=15)
    assert (row.first_payment_defaults, row.ring_members, row.fraud_labels) == (0, 0, 1)
    assert row.risk_score == round(100 * 0.3 / 51, 2)
    assert row.name is None  # no Dealer node: no name
