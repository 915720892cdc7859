"""Pure domain functions: policy, rule hits, state machine, SLA calendar, DPD and stage."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from lifecycle.collection import Installment, Stage, stage_for, standing
from lifecycle.errors import IllegalTransition, PolicyError
from lifecycle.policy import DEFAULT_POLICY, Tier, decide, load_policy, parse_policy
from lifecycle.rules import RULES, RuleFacts, hits_from_facts
from lifecycle.signals import RiskSignals, RuleHit, ScoreSignal
from lifecycle.sla import SlaState, add_working_days, is_working_day, sla_state
from lifecycle.states import check_transition


def _signals(*codes: str, scores: list[ScoreSignal] | None = None) -> RiskSignals:
    hits = [RuleHit(code=c, band=RULES[c][0], reason=f"reason {c}") for c in codes]
    return RiskSignals(application_id="X", rule_hits=hits, scores=scores or [])


def test_no_hits_approves_with_a_plain_reason() -> None:
    verdict = decide(_signals(), DEFAULT_POLICY)
    assert verdict.tier == Tier.A
    assert verdict.reasons[0].code == "A000"
    assert verdict.policy_version == DEFAULT_POLICY.version


def test_points_pick_the_tier_and_reasons_are_strongest_first_at_most_four() -> None:
    assert decide(_signals("R102"), DEFAULT_POLICY).tier == Tier.B
    verdict = decide(_signals("R110", "R102", "R103", "R101", "R107", "R109"),
                     DEFAULT_POLICY)
    assert verdict.tier == Tier.C
    assert [r.code for r in verdict.reasons] == ["R103", "R101", "R107", "R102"]
    assert verdict.points == 10 + 30 + 60 + 45 + 35 + 30


def test_watchlist_declines_whatever_the_points() -> None:
    policy = DEFAULT_POLICY.model_copy(update={"decline_at": 500})
    assert decide(_signals("R108"), policy).tier == Tier.C


def test_scores_force_tiers_and_unavailable_scorer_follows_policy() -> None:
    ring = ScoreSignal(source="ring", available=True, score=0.95, reasons=["joins ring R1"])
    verdict = decide(_signals(scores=[ring]), DEFAULT_POLICY)
    assert verdict.tier == Tier.C and verdict.reasons[0].code == "S_RING"
    assert "joins ring R1" in verdict.reasons[0].text
    assert decide(_signals(scores=[ring.model_copy(update={"score": 0.6})]),
                  DEFAULT_POLICY).tier == Tier.B
    missing = ScoreSignal.unavailable("gnn", "U_GNN_MISSING", "not installed")
    assert decide(_signals(scores=[missing]), DEFAULT_POLICY).tier == Tier.A
    strict = DEFAULT_POLICY.model_copy(update={"unavailable_scorer": "review"})
    verdict = decide(_signals(scores=[missing]), strict)
    assert verdict.tier == Tier.B and verdict.reasons[0].code == "U_GNN_MISSING"


def test_policy_validation_refuses_bad_thresholds_and_unknown_rules(tmp_path) -> None:
    body = DEFAULT_POLICY.model_dump()
    with pytest.raises(PolicyError, match="review_at"):
        parse_policy({**body, "review_at": 95})
    with pytest.raises(PolicyError, match="R999"):
        parse_policy({**body, "rules": {"R999": {"points": 1}}})
    path = tmp_path / "policy.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(PolicyError, match="policy.json"):
        load_policy(path)
    path.write_text(DEFAULT_POLICY.to_json(), encoding="utf-8")
    assert load_policy(path) == DEFAULT_POLICY


def test_hits_from_facts_words_and_thresholds() -> None:
    facts = RuleFacts(application_id="X", other_dealers=["D2", "D3"],
                      fraud_links=[{"kind": "Device", "application_id": "F1"},
                                   {"kind": "Device", "application_id": "F1"}],
                      device_sharers=["p1"], loan_amount=120000, term_months=12,
                      monthly_income=10000)
    hits = {h.code: h for h in hits_from_facts(facts)}
    assert set(hits) == {"R101", "R104", "R110"}  # one other device user is not velocity
    assert hits["R101"].reason == "the same identity applied at 2 other dealers within 30 days"
    assert hits["R104"].evidence == {"applications": ["F1"]}


def test_state_machine_refuses_illegal_moves_naming_what_is_allowed() -> None:
    assert check_transition("A1", "submitted", "screened") == "screened"
    with pytest.raises(IllegalTransition, match="allowed from 'submitted': screened"):
        check_transition("A1", "submitted", "approved")
    with pytest.raises(IllegalTransition, match="final state"):
        check_transition("A1", "paid_off", "current")
    with pytest.raises(IllegalTransition):
        check_transition("A1", "approved", "flying")


def test_working_days_follow_make_up_days_and_holidays() -> None:
    assert is_working_day(date(2026, 2, 14))  # Saturday, make-up workday
    assert not is_working_day(date(2026, 2, 16))  # Spring Festival
    assert add_working_days(datetime(2026, 2, 13, 10), 1) == datetime(2026, 2, 14, 10)
    assert add_working_days(datetime(2026, 2, 14, 10), 1) == datetime(2026, 2, 24, 10)
    assert is_working_day(date(2027, 1, 4)) and not is_working_day(date(2027, 1, 9))


def test_sla_states() -> None:
    opened, due = datetime(2026, 3, 2, 10), datetime(2026, 3, 4, 10)
    assert sla_state(datetime(2026, 3, 2, 12), opened, due) == SlaState.OK
    assert sla_state(datetime(2026, 3, 3, 23), opened, due) == SlaState.WARNING
    assert sla_state(datetime(2026, 3, 4, 11), opened, due) == SlaState.BREACHED
    assert sla_state(datetime(2026, 3, 5, 11), opened, due) == SlaState.ESCALATED


def test_stage_ladder_and_standing() -> None:
    assert [stage_for(d) for d in (-5, -3, 0, 1, 30, 31, 60, 61, 90, 91)] == [
        Stage.NONE, Stage.REMINDER, Stage.REMINDER, Stage.M1, Stage.M1, Stage.M2, Stage.M2,
        Stage.M3, Stage.M3, Stage.SEVERE]
    insts = [Installment(1, date(2026, 1, 10), 1000.0, date(2026, 1, 9), 1000.0),
             Installment(2, date(2026, 2, 10), 1000.0),
             Installment(3, date(2026, 3, 10), 1000.0, date(2026, 3, 10), 400.0)]
    st = standing(insts, date(2026, 3, 20), term_months=3)
    assert (st.dpd, st.stage, st.overdue_amount, st.paid_off) == (38, Stage.M2, 1600.0, False)
    assert not st.first_payment_default
    fpd = standing([Installment(1, date(2026, 1, 10), 1000.0)], date(2026, 2, 15), 12)
    assert fpd.first_payment_default and fpd.dpd == 36
    paid = [Installment(i, date(2026, i, 10), 10.0, date(2026, i, 10), 10.0)
            for i in (1, 2)]
    assert standing(paid, date(2026, 3, 1), term_months=2).paid_off
