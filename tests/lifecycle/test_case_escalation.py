"""A reviewer escalating a live case: kept in the queue, noted, audited; closed ones refused."""

from __future__ import annotations

import pytest

from lifecycle import audit, cases
from lifecycle.context import Lifecycle
from lifecycle.errors import IllegalTransition, InvalidInput, NotFound
from tests.lifecycle.conftest import submit
from tests.utils import application_row


def _tier_b(ctx: Lifecycle) -> str:
    submit(ctx, 1)
    d = submit(ctx, 2, contact_phone=application_row(1)["applicant_phone"])
    assert d.tier == "B" and d.case_id
    return d.case_id


def test_escalating_keeps_the_case_live_with_a_note_and_an_audit_event(
        ctx: Lifecycle) -> None:
    case_id = _tier_b(ctx)
    case = cases.escalate(ctx, case_id, by="rev1", reason="dealer pattern, needs a senior")
    assert (case.status, case.escalated_to) == ("open", cases.SUPERVISOR)
    assert [n["text"] for n in case.notes] == [
        "escalated to supervisor: dealer pattern, needs a senior"]
    assert case_id in {c["case_id"] for c in cases.queue(ctx.runner)}
    events = audit.events_for(ctx.runner, case_id)
    assert ("case.escalate", "rev1") in {(e.action, e.actor) for e in events}


def test_escalation_refuses_no_reason_unknown_and_closed_cases(ctx: Lifecycle) -> None:
    case_id = _tier_b(ctx)
    with pytest.raises(InvalidInput, match="reason"):
        cases.escalate(ctx, case_id, by="rev1", reason="  ")
    assert cases.get_case(ctx.runner, case_id).escalated_to is None
    with pytest.raises(NotFound):
        cases.escalate(ctx, "CASE-NOPE", by="rev1", reason="why not")
    cases.assign(ctx, case_id, "rev1", by="lead")
    cases.close_case(ctx, case_id, "false_positive", by="rev1", reason="family")
    with pytest.raises(IllegalTransition, match="'cleared' to 'escalated'"):
        cases.escalate(ctx, case_id, by="rev1", reason="second thoughts")
    closed = cases.get_case(ctx.runner, case_id)
    assert (closed.status, closed.escalated_to, closed.notes) == ("cleared", None, [])
