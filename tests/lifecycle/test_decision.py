"""Decision at origination against the real Neo4j: rules, tiers, stored decisions."""

from __future__ import annotations

import pytest

from graph.runner import Query
from lifecycle import audit, decision, policy_store, transitions
from lifecycle.context import Lifecycle
from lifecycle.errors import IllegalTransition, InvalidInput
from lifecycle.policy import DEFAULT_POLICY
from lifecycle.scorers import gnn_scorer, ring_scorer
from lifecycle.signals import ScoreSignal
from tests.lifecycle.conftest import app, count, submit
from tests.utils import application_row, id_number

LABEL_FRAUD = Query("test.label_fraud",
                    "MATCH (a:Application {application_id: $id}) SET a.label = 'fraud'")


def test_clean_application_is_approved_and_the_decision_is_stored(ctx: Lifecycle) -> None:
    d = submit(ctx, 1)
    assert (d.tier, d.outcome, d.automated) == ("A", "approved", True)
    assert d.policy_version == DEFAULT_POLICY.version
    assert d.signals is not None and d.signals.rule_hits == []
    stored = app(ctx.runner, d.application_id)
    assert stored["status"] == "approved" and stored["tier"] == "A"
    assert stored["applicant_name_masked"] != "张三"
    moves = [(t.from_state, t.to_state) for t in transitions.history(ctx.runner, "APP000001")]
    assert moves == [("submitted", "screened"), ("screened", "approved")]
    assert policy_store.get_policy(ctx.runner, DEFAULT_POLICY.version) == DEFAULT_POLICY
    events = audit.events_for(ctx.runner, "APP000001")
    assert events[0].action == "decision.automated" and events[0].params["tier"] == "A"


def test_identity_at_another_dealer_within_30_days_goes_to_review(ctx: Lifecycle) -> None:
    ident = id_number(seq="777")
    submit(ctx, 1, applicant_id_number=ident, submitted_at="2026-03-01T10:00:00")
    d = submit(ctx, 2, applicant_id_number=ident, dealer_id="D2",
               submitted_at="2026-03-20T10:00:00")
    assert d.tier == "B"
    assert d.reasons[0].code == "R101"
    assert "1 other dealer within 30 days" in d.reasons[0].text
    assert d.case_id and app(ctx.runner, d.application_id)["status"] == "in_review"
    # 40 days apart is outside the window
    late = submit(ctx, 3, applicant_id_number=ident, dealer_id="D3",
                  submitted_at="2026-05-01T10:00:00")
    assert late.tier == "A"


def test_vin_contact_phone_and_shared_account_rules(ctx: Lifecycle) -> None:
    first = application_row(1)
    submit(ctx, 1)
    vin = submit(ctx, 2, vehicle_vin=first["vehicle_vin"])
    assert [h.code for h in vin.signals.rule_hits] == ["R103"]
    contact = submit(ctx, 3, contact_phone=first["applicant_phone"])
    assert [h.code for h in contact.signals.rule_hits] == ["R102"]
    account = submit(ctx, 4, bank_account=first["bank_account"])
    assert [h.code for h in account.signals.rule_hits] == ["R107"]
    assert {vin.tier, contact.tier, account.tier} == {"B"}


def test_sharing_a_device_with_a_confirmed_fraud_case_declines(ctx: Lifecycle) -> None:
    submit(ctx, 1, device_id="shared-dev")
    ctx.runner.write(LABEL_FRAUD, id="APP000001")
    d = submit(ctx, 2, device_id="shared-dev")
    assert d.tier == "C" and d.outcome == "declined"
    assert d.reasons[0].code == "R104"
    assert d.reasons[0].text == "the device was used by 1 confirmed fraud case"
    assert count(ctx.runner, "Case") == 0  # only tier B opens a case


def test_bad_row_is_refused_and_nothing_is_written(ctx: Lifecycle) -> None:
    with pytest.raises(InvalidInput, match="applicant_id_number"):
        submit(ctx, 1, applicant_id_number="123")
    with pytest.raises(InvalidInput, match="loan_amount"):
        submit(ctx, 1, loan_amount="-5")
    assert count(ctx.runner, "Application") == 0 and count(ctx.runner, "Decision") == 0


def test_resubmitting_a_decided_application_is_refused_and_changes_nothing(
        ctx: Lifecycle) -> None:
    submit(ctx, 1)
    before = app(ctx.runner, "APP000001")
    with pytest.raises(IllegalTransition, match="'approved' to 'submitted'"):
        submit(ctx, 1, loan_amount="1")
    after = app(ctx.runner, "APP000001")
    assert after == before and count(ctx.runner, "Decision") == 1


def test_plugged_scorers_feed_the_policy_and_are_stored(ctx: Lifecycle) -> None:
    def ring(runner, application_id):  # type: ignore[no-untyped-def]
        return ScoreSignal(source="ring", available=True, score=0.93,
                           reasons=["joins ring R7 through a shared device"],
                           detail={"ring_ids": ["R7"], "action": "join"})

    ctx.scorers = [ring]
    d = submit(ctx, 1)
    assert d.tier == "C" and d.reasons[0].code == "S_RING"
    assert d.signals.score("ring").detail["ring_ids"] == ["R7"]
    assert app(ctx.runner, "APP000001")["ring_score"] == pytest.approx(0.93)


def test_adapters_never_raise_and_say_why_they_are_unavailable(ctx: Lifecycle,
                                                               neo4j_settings) -> None:
    submit(ctx, 1)
    for scorer in (ring_scorer(), gnn_scorer(neo4j_settings)):
        signal = scorer(ctx.runner, "APP000001")
        assert signal.source in ("ring", "gnn")
        if not signal.available:
            assert signal.unavailable_code and signal.unavailable_code.startswith("U_")


def test_past_decisions_are_explainable(ctx: Lifecycle) -> None:
    submit(ctx, 1, device_id="d")
    ctx.runner.write(LABEL_FRAUD, id="APP000001")
    submit(ctx, 2, device_id="d")
    [stored] = decision.decisions(ctx.runner, "APP000002")
    assert stored.tier == "C" and stored.signals.rule_hits[0].evidence == {
        "applications": ["APP000001"]}
    assert stored.policy_version == DEFAULT_POLICY.version
