"""The application/loan state machine: pure, no I/O.

submitted -> screened -> approved | in_review | declined; in_review -> approved | declined;
approved -> contracted -> disbursed -> current <-> delinquent; current -> paid_off;
delinquent -> charged_off | paid_off. A human may override a decline (four eyes) to
approved, and an approval may be withdrawn to declined before the contract.
"""

from __future__ import annotations

from enum import StrEnum

from lifecycle.errors import IllegalTransition


class LoanState(StrEnum):
    SUBMITTED = "submitted"
    SCREENED = "screened"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    DECLINED = "declined"
    CONTRACTED = "contracted"
    DISBURSED = "disbursed"
    CURRENT = "current"
    DELINQUENT = "delinquent"
    PAID_OFF = "paid_off"
    CHARGED_OFF = "charged_off"


S = LoanState
TRANSITIONS: dict[LoanState, tuple[LoanState, ...]] = {
    S.SUBMITTED: (S.SCREENED,),
    S.SCREENED: (S.APPROVED, S.IN_REVIEW, S.DECLINED),
    S.IN_REVIEW: (S.APPROVED, S.DECLINED),
    S.APPROVED: (S.CONTRACTED, S.DECLINED, S.IN_REVIEW),
    S.DECLINED: (S.IN_REVIEW, S.APPROVED),
    S.CONTRACTED: (S.DISBURSED,),
    S.DISBURSED: (S.CURRENT, S.DELINQUENT, S.PAID_OFF),
    S.CURRENT: (S.DELINQUENT, S.PAID_OFF),
    S.DELINQUENT: (S.CURRENT, S.PAID_OFF, S.CHARGED_OFF),
    S.PAID_OFF: (),
    S.CHARGED_OFF: (),
}

#: States of a loan that has money out (servicing looks at these).
ACTIVE_LOAN: tuple[LoanState, ...] = (S.DISBURSED, S.CURRENT, S.DELINQUENT)
#: States that reach "disbursed" or beyond, for the funnel.
FUNNEL: tuple[LoanState, ...] = (S.SUBMITTED, S.SCREENED, S.APPROVED, S.CONTRACTED,
                                 S.DISBURSED)


def check_transition(key: str, current: str, target: str) -> LoanState:
    """Return the target state, or raise ``IllegalTransition`` naming what is allowed."""
    try:
        src = LoanState(current)
    except ValueError:
        raise IllegalTransition("application", key, current, target, ()) from None
    allowed = TRANSITIONS[src]
    try:
        dst = LoanState(target)
    except ValueError:
        raise IllegalTransition("application", key, current, target,
                                tuple(s.value for s in allowed)) from None
    if dst not in allowed:
        raise IllegalTransition("application", key, current, target,
                                tuple(s.value for s in allowed))
    return dst
