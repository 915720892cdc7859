"""Review cases: assignment, notes, dispositions as labels, human review, SLA."""

from __future__ import annotations

from datetime import datetime

import pytest

from graph.runner import Query
from lifecycle import approvals, audit, cases, watchlist
from lifecycle.clock import SHANGHAI
from lifecycle.context import Lifecycle
from lifecycle.errors import FourEyesViolation, IllegalTransition, InvalidInput, NotFound
from tests.lifecycle.conftest import Clock, app, count, submit
from tests.utils import application_row

RING = Query(
    "test.ring",
    "CREATE (r:Ring {ring_id: 'RING1', score: 40.0}) WITH r UNWIND $ids AS id "
    "MATCH (a:Application {application_id: id}) CREATE (a)-[:MEMBER_OF]->(r)",
)
RING_SCORE = Query("test.ring_score",
                   "MATCH (r:Ring {ring_id: 'RING1'}) RETURN r.score AS s, r.reasons AS why")
LABEL_FRAUD = Query("test.label_fraud2",
                    "MATCH (a:Application {application_id: $id}) SET a.label = 'fraud'")


def _tier_b(ctx: Lifecycle) -> str:
    submit(ctx, 1)
    d = submit(ctx, 2, contact_phone=application_row(1)["applicant_phone"])
    assert d.tier == "B" and d.case_id
    return d.case_id


def test_tier_b_case_has_evidence_and_a_working_day_deadline(ctx: Lifecycle,
                                                            clock: Clock) -> None:
    clock.value = datetime(2026, 2, 13, 15, 0, tzinfo=SHANGHAI)  # Friday before the holiday
    case_id = _tier_b(ctx)
    case = cases.get_case(ctx.runner, case_id)
    assert (case.status, case.kind, case.sla_state) == ("open", "review", "ok")
    assert case.evidence["reasons"][0]["code"] == "R102"
    # 2 working days: Saturday 14 Feb is a make-up workday, then Spring Festival to the 23rd
    assert case.due_at.replace(tzinfo=None) == datetime(2026, 2, 24, 15, 0)


def test_opening_a_case_reuses_a_live_one_of_its_kind_and_audits_each_opening(
        ctx: Lifecycle, clock: Clock) -> None:
    review = _tier_b(ctx)
    at = clock()

    def open_(kind: cases.CaseKind) -> str:
        with ctx.runner.transaction() as tx:
            return cases.open_case(tx, "APP000002", kind, at=at, sla_days=2,
                                   evidence={"why": "test"})

    assert open_(cases.CaseKind.REVIEW) == review
    warning = open_(cases.CaseKind.EARLY_WARNING)
    assert warning not in (review, None)
    assert open_(cases.CaseKind.EARLY_WARNING) == warning
    cases.assign(ctx, warning, "rev1", by="lead")
    assert open_(cases.CaseKind.EARLY_WARNING) == warning  # in progress is still live
    cases.close_case(ctx, warning, "false_positive", by="rev1", reason="fleet purchase")
    again = open_(cases.CaseKind.EARLY_WARNING)
    assert again not in (review, warning)
    assert [cases.get_case(ctx.runner, c).kind for c in (review, warning, again)] == [
        "review", "early_warning", "early_warning"]
    for case_id in (review, warning, again):
        opened = [e for e in audit.events_for(ctx.runner, case_id) if e.action == "case.open"]
        assert [(e.actor, e.params) for e in opened] == [
            ("system", {"application_id": "APP000002",
                        "kind": cases.get_case(ctx.runner, case_id).kind.value})]
    with pytest.raises(NotFound), ctx.runner.transaction() as tx:
        cases.open_case(tx, "APP999999", cases.CaseKind.REVIEW, at=at, sla_days=2,
                        evidence={})


def test_false_positive_clears_approves_and_labels_legit(ctx: Lifecycle,
                                                          clock: Clock) -> None:
    case_id = _tier_b(ctx)
    with pytest.raises(IllegalTransition, match="'open' to 'cleared'"):
        cases.close_case(ctx, case_id, "false_positive", by="rev1", reason="family")
    assert app(ctx.runner, "APP000002")["status"] == "in_review"
    cases.assign(ctx, case_id, "rev1", by="lead")
    note = cases.add_note(ctx, case_id, author="rev1", text="called the contact: sister")
    clock.advance(hours=3)
    closure = cases.close_case(ctx, case_id, "legitimate_relationship", by="rev1",
                               reason="contact is the applicant's sister")
    assert (closure.status, closure.label, closure.application_status) == (
        "cleared", "legit", "approved")
    stored = app(ctx.runner, "APP000002")
    assert (stored["label"], stored["disposition"]) == ("legit", "legitimate_relationship")
    assert stored["labeled_at"].to_native() == clock.value
    case = cases.get_case(ctx.runner, case_id)
    assert case.notes[0]["note_id"] == note and case.assignee == "rev1"
    with pytest.raises(IllegalTransition, match="final state"):
        cases.close_case(ctx, case_id, "identity_theft", by="rev1", reason="changed mind")
    assert app(ctx.runner, "APP000002")["label"] == "legit"
    assert [e.action for e in audit.events_for(ctx.runner, case_id)] == [
        "case.open", "case.assign", "case.note", "case.close"]


def test_confirmed_fraud_labels_declines_blacklists_and_raises_its_ring(
        ctx: Lifecycle) -> None:
    case_id = _tier_b(ctx)
    ctx.runner.write(RING, ids=["APP000002", "APP000001"])
    cases.assign(ctx, case_id, "rev1", by="lead")
    closure = cases.close_case(ctx, case_id, "synthetic_identity", by="rev1",
                               reason="ID photo reused")
    assert (closure.label, closure.application_status) == ("fraud", "declined")
    assert closure.rings_bumped == ["RING1"]
    ring = ctx.runner.read(RING_SCORE)[0]
    assert ring["s"] == pytest.approx(60.0) and "synthetic_identity" in ring["why"][0]
    kinds = sorted(e.kind for e in watchlist.entries(ctx.runner))
    assert kinds == ["BankAccount", "Device", "Person", "Phone"]
    # the next application with the same device is declined by the watchlist
    d = submit(ctx, 3, device_id=application_row(2)["device_id"])
    assert d.tier == "C" and "R108" in [r.code for r in d.reasons]


def test_bad_disposition_and_unknown_case_change_nothing(ctx: Lifecycle) -> None:
    case_id = _tier_b(ctx)
    cases.assign(ctx, case_id, "rev1", by="lead")
    with pytest.raises(InvalidInput, match="disposition"):
        cases.close_case(ctx, case_id, "probably_bad", by="rev1", reason="x")
    with pytest.raises(NotFound):
        cases.assign(ctx, "CASE-nope", "rev1", by="lead")
    assert cases.get_case(ctx.runner, case_id).status == "in_progress"
    assert app(ctx.runner, "APP000002").get("label") is None


def test_human_review_of_an_automatic_decline_needs_four_eyes_to_approve(
        ctx: Lifecycle) -> None:
    submit(ctx, 1, device_id="dev-x")
    ctx.runner.write(LABEL_FRAUD, id="APP000001")
    d = submit(ctx, 2, device_id="dev-x")
    assert d.outcome == "declined"
    with pytest.raises(IllegalTransition):
        cases.request_human_review(ctx, "APP000001", requested_by="applicant", reason="x")
    case_id = cases.request_human_review(ctx, "APP000002", requested_by="applicant:APP000002",
                                         reason="the device was a shop's tablet")
    assert app(ctx.runner, "APP000002")["status"] == "in_review"
    assert cases.get_case(ctx.runner, case_id).kind == "human_review"
    with pytest.raises(IllegalTransition):  # already in review
        cases.request_human_review(ctx, "APP000002", requested_by="applicant", reason="again")
    cases.assign(ctx, case_id, "rev2", by="lead")
    closure = cases.close_case(ctx, case_id, "false_positive", by="rev2",
                               reason="shared dealer tablet")
    assert closure.application_status == "in_review" and closure.approval_id
    with pytest.raises(FourEyesViolation):
        approvals.approve(ctx, closure.approval_id, by="rev2")
    approvals.approve(ctx, closure.approval_id, by="lead")
    assert app(ctx.runner, "APP000002")["status"] == "approved"
    from lifecycle.decision import decisions

    last = decisions(ctx.runner, "APP000002")[-1]
    assert not last.automated and last.decided_by == "lead"


def test_sla_sweep_warns_breaches_escalates_once(ctx: Lifecycle, clock: Clock) -> None:
    case_id = _tier_b(ctx)  # Monday 2 March 10:00, due Wednesday 4 March 10:00
    sweep = cases.sla_sweep(ctx, datetime(2026, 3, 3, 23, tzinfo=SHANGHAI))
    assert sweep.changed == {"warning": 1}
    assert cases.sla_sweep(ctx, datetime(2026, 3, 3, 23, 30, tzinfo=SHANGHAI)).changed == {}
    assert cases.sla_sweep(ctx, datetime(2026, 3, 4, 11, tzinfo=SHANGHAI)).changed == {
        "breached": 1}
    assert cases.sla_sweep(ctx, datetime(2026, 3, 5, 11, tzinfo=SHANGHAI)).changed == {
        "escalated": 1}
    case = cases.get_case(ctx.runner, case_id)
    assert (case.sla_state, case.escalated_to) == ("escalated", "supervisor")
    assert count(ctx.runner, "Case") == 1
    assert [row["case_id"] for row in cases.queue(ctx.runner)] == [case_id]


def test_automatic_blacklisting_leaves_hub_identifiers_off(ctx: Lifecycle) -> None:
    for n in range(1, 9):  # a dealer's kiosk tablet used by eight applicants
        submit(ctx, n, device_id="kiosk-1")
    with ctx.runner.transaction() as tx:
        entries = watchlist.add_from_application(tx, "APP000001", reason="confirmed",
                                                 added_by="test", at=ctx.clock())
    assert len(entries) == 3
    assert sorted(e.kind for e in watchlist.entries(ctx.runner)) == [
        "BankAccount", "Person", "Phone"]
