"""Days past due and the collection ladder: pure functions over installments.

| stage | days past due | action |
| reminder | -3 to 0 | SMS and app push |
| m1 | 1-30 | phone, messaging |
| m2 | 31-60 | dedicated collector, home visit |
| m3 | 61-90 | legal team, lawyer's letter |
| severe | 90+ | litigation, repossession and asset disposal |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Stage(StrEnum):
    NONE = "none"
    REMINDER = "reminder"
    M1 = "m1"
    M2 = "m2"
    M3 = "m3"
    SEVERE = "severe"


STAGE_ACTIONS: dict[Stage, str] = {
    Stage.NONE: "no action",
    Stage.REMINDER: "SMS and app push",
    Stage.M1: "phone, messaging",
    Stage.M2: "dedicated collector, home visit",
    Stage.M3: "legal team, lawyer's letter",
    Stage.SEVERE: "litigation, repossession and asset disposal",
}

#: Days past due at which a loan is written off.
CHARGE_OFF_DPD = 180
#: A first instalment this many days past due is a first-payment default.
FPD_DPD = 30


@dataclass(frozen=True)
class Installment:
    installment_no: int
    due_date: date
    amount_due: float
    paid_date: date | None = None
    amount_paid: float | None = None

    def paid_by(self, day: date) -> bool:
        """Paid in full on or before ``day`` (a cent of tolerance)."""
        return (self.paid_date is not None and self.paid_date <= day
                and (self.amount_paid or 0.0) >= self.amount_due - 0.01)


@dataclass(frozen=True)
class Standing:
    """A loan's position on one day."""

    dpd: int  # days past due of the oldest unpaid instalment; <= 0 when none is overdue
    stage: Stage
    overdue_amount: float
    outstanding_installments: int
    first_payment_default: bool
    paid_off: bool


def stage_for(dpd: int) -> Stage:
    if dpd <= -4:
        return Stage.NONE
    if dpd <= 0:
        return Stage.REMINDER
    if dpd <= 30:
        return Stage.M1
    if dpd <= 60:
        return Stage.M2
    if dpd <= 90:
        return Stage.M3
    return Stage.SEVERE


def standing(installments: list[Installment], as_of: date, term_months: int | None) -> Standing:
    """Days past due, stage, overdue amount and payoff of one loan on ``as_of``."""
    unpaid = sorted((i for i in installments if not i.paid_by(as_of)),
                    key=lambda i: i.due_date)
    overdue = [i for i in unpaid if i.due_date < as_of]
    dpd = (as_of - unpaid[0].due_date).days if unpaid else -999
    fpd = any(i.installment_no == 1 and (as_of - i.due_date).days > FPD_DPD for i in unpaid)
    complete = term_months is not None and len(installments) >= term_months
    return Standing(
        dpd=dpd,
        stage=stage_for(dpd),
        overdue_amount=round(sum(i.amount_due - (i.amount_paid or 0.0) for i in overdue), 2),
        outstanding_installments=len(unpaid),
        first_payment_default=fpd,
        paid_off=complete and not unpaid,
    )
