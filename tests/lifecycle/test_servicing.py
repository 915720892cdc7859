"""After approval: contract, disbursement, repayments, servicing run, early warning,
collection queue and reachable contacts."""

from __future__ import annotations

from datetime import date

import pytest

from graph.runner import Query
from lifecycle import cases, transitions
from lifecycle.collection_graph import collection_queue, reachable_contacts
from lifecycle.context import Lifecycle
from lifecycle.errors import IllegalTransition, InvalidInput, NotFound
from lifecycle.portfolio import portfolio_figures
from lifecycle.servicing import contract, post_repayment, run_servicing
from tests.lifecycle.conftest import app, count, disbursed_loan, submit
from tests.utils import application_row

RING = Query(
    "test.ring2",
    "CREATE (r:Ring {ring_id: $ring, score: $score}) WITH r UNWIND $ids AS id "
    "MATCH (a:Application {application_id: id}) CREATE (a)-[:MEMBER_OF]->(r)",
)
RING_SCORE = Query("test.ring_score2",
                   "MATCH (r:Ring {ring_id: $ring}) RETURN r.score AS s")


def _schedule(ctx: Lifecycle, app_id: str, n: int, first_due: str = "2026-04-10",
              paid: int = 0, amount: str = "2500") -> None:
    year, month, day = (int(x) for x in first_due.split("-"))
    for i in range(1, n + 1):
        due = date(year + (month + i - 2) // 12, (month + i - 2) % 12 + 1, day)
        row = {"application_id": app_id, "installment_no": str(i), "due_date": str(due),
               "amount_due": amount}
        if i <= paid:
            row |= {"paid_date": str(due), "amount_paid": amount}
        post_repayment(ctx, row)


def test_illegal_transition_is_refused_and_nothing_changes(ctx: Lifecycle) -> None:
    d = submit(ctx, 1)
    with pytest.raises(IllegalTransition, match="allowed from 'approved'"):
        transitions.transition(ctx.runner, d.application_id, "disbursed", actor="ops",
                               at=ctx.clock(), reason="skip the contract")
    assert app(ctx.runner, d.application_id)["status"] == "approved"
    assert len(transitions.history(ctx.runner, d.application_id)) == 2
    with pytest.raises(NotFound):
        contract(ctx, "APP-missing", by="ops")


def test_servicing_moves_loans_through_the_ladder_idempotently(ctx: Lifecycle) -> None:
    a = disbursed_loan(ctx, 1)
    b = disbursed_loan(ctx, 2)
    c = disbursed_loan(ctx, 3)
    _schedule(ctx, a, 3, paid=1)  # second instalment (10 May) unpaid
    _schedule(ctx, b, 2, paid=2, amount="100")  # but term is 36: not paid off
    _schedule(ctx, c, 1)  # first instalment 10 April, never paid: charge-off by October
    report = run_servicing(ctx, date(2026, 6, 15))
    assert report.loans == 3
    first = {x: app(ctx.runner, x) for x in (a, b, c)}
    assert (first[a]["dpd"], first[a]["collection_stage"], first[a]["status"]) == (
        36, "m2", "delinquent")
    assert first[b]["status"] == "current"
    assert first[c]["collection_stage"] == "m3" and report.first_payment_defaults == 1
    again = run_servicing(ctx, date(2026, 6, 15))
    assert again.transitions == {} and again.first_payment_defaults == 0
    assert {x: app(ctx.runner, x)["transition_count"] for x in (a, b, c)} == {
        x: first[x]["transition_count"] for x in (a, b, c)}

    post_repayment(ctx, {"application_id": a, "installment_no": "2", "due_date": "2026-05-10",
                         "amount_due": "2500", "paid_date": "2026-06-20",
                         "amount_paid": "2500"})
    late = run_servicing(ctx, date(2026, 10, 20))
    # a stays delinquent (third instalment unpaid), c passes 180 days: charged off
    assert late.transitions == {"charged_off": 1}
    assert app(ctx.runner, c)["status"] == "charged_off"
    assert app(ctx.runner, a)["dpd"] == 132  # third instalment, due 10 June
    moves = [t.to_state for t in transitions.history(ctx.runner, c)]
    assert moves[-2:] == ["delinquent", "charged_off"]


def test_bad_repayment_is_refused(ctx: Lifecycle) -> None:
    with pytest.raises(NotFound):
        post_repayment(ctx, {"application_id": "APP404", "installment_no": "1",
                             "due_date": "2026-04-10", "amount_due": "10"})
    with pytest.raises(InvalidInput, match="due_date"):
        post_repayment(ctx, {"application_id": "APP404", "installment_no": "1",
                             "due_date": "soon", "amount_due": "10"})
    assert count(ctx.runner, "Installment") == 0


def test_first_payment_default_in_a_ring_raises_it_and_flags_other_loans(
        ctx: Lifecycle) -> None:
    a = disbursed_loan(ctx, 1)
    b = disbursed_loan(ctx, 2)
    outsider = disbursed_loan(ctx, 3)
    ctx.runner.write(RING, ring="R9", score=30.0, ids=[a, b])
    _schedule(ctx, a, 1)
    _schedule(ctx, b, 1, paid=1)
    _schedule(ctx, outsider, 1, paid=1)
    report = run_servicing(ctx, date(2026, 5, 20))  # 40 days after the first due date
    assert report.first_payment_defaults == 1 and report.rings_bumped == 1
    assert ctx.runner.read(RING_SCORE, ring="R9")[0]["s"] == pytest.approx(45.0)
    [case_id] = report.early_warning_cases
    assert cases.get_case(ctx.runner, case_id).application_id == b
    assert app(ctx.runner, b)["early_warning"] is True
    assert not app(ctx.runner, outsider).get("early_warning")
    again = run_servicing(ctx, date(2026, 5, 21))
    assert again.rings_bumped == 0 and count(ctx.runner, "Case") == 1


def test_collection_queue_puts_graph_risk_before_a_larger_quiet_debt(ctx: Lifecycle) -> None:
    risky = disbursed_loan(ctx, 1)
    quiet = disbursed_loan(ctx, 2)
    ctx.runner.write(RING, ring="R1", score=90.0, ids=[risky])
    _schedule(ctx, risky, 1, amount="2000")
    _schedule(ctx, quiet, 1, amount="3000")
    run_servicing(ctx, date(2026, 4, 25))
    queue = collection_queue(ctx.runner)
    assert [q.application_id for q in queue] == [risky, quiet]
    assert queue[0].graph_risk == pytest.approx(0.9) and queue[0].why[0] == "ring score 0.90"


def test_reachable_contacts_are_masked_by_role(ctx: Lifecycle) -> None:
    borrower = disbursed_loan(ctx, 1)
    address = application_row(1)["home_address"]
    submit(ctx, 2, home_address=address)  # a co-resident applicant
    submit(ctx, 3, contact_phone=application_row(1)["applicant_phone"])  # names borrower
    with pytest.raises(InvalidInput, match="not in collection"):
        reachable_contacts(ctx, borrower, role="collector", actor="c1")
    _schedule(ctx, borrower, 1)
    run_servicing(ctx, date(2026, 4, 20))
    contacts = reachable_contacts(ctx, borrower, role="collector", actor="c1")
    relations = sorted(c.relation for c in contacts)
    assert relations == ["co_resident_applicant", "emergency_contact",
                         "names_borrower_as_contact"]
    clear = {application_row(n)[k][3:7] for n in (1, 2, 3)
             for k in ("applicant_phone", "contact_phone")}
    for contact in contacts:
        assert "****" in contact.phone and contact.phone[3:7] not in clear
        assert contact.address is None and contact.via is None and contact.token
    field = reachable_contacts(ctx, borrower, role="field_collector", actor="f1")
    [resident] = [c for c in field if c.relation == "co_resident_applicant"]
    assert resident.address == address[:6] + "***" and resident.via is None
    legal = reachable_contacts(ctx, borrower, role="legal", actor="l1")
    assert {c.via for c in legal} == {borrower, "APP000002", "APP000003"}
    with pytest.raises(InvalidInput, match="role"):
        reachable_contacts(ctx, borrower, role="intern", actor="x")


def test_portfolio_figures(ctx: Lifecycle) -> None:
    disbursed_loan(ctx, 1)
    submit(ctx, 2, contact_phone=application_row(1)["applicant_phone"])  # B
    submit(ctx, 3, dealer_id="D2")
    figures = portfolio_figures(ctx.runner)
    assert figures.funnel["submitted"] == 3 and figures.funnel["disbursed"] == 1
    assert figures.funnel["approved"] == 2 and figures.funnel["in_review"] == 1
    assert figures.tier_mix == {"A": 2, "B": 1, "C": 0}
    d1 = next(r for r in figures.by_dealer if r["key"] == "D1")
    assert (d1["applications"], d1["approved"], d1["approval_rate"]) == (2, 1, 0.5)
    assert figures.by_ring_risk[0]["key"] == "no ring"
