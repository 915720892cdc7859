"""Loans: vehicle, price, down payment, term and instalment, and how they are repaid."""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from datetime import date, datetime

from synthetic.dealers import Dealer
from synthetic.identities import IdentityFactory, WeightedChoice
from synthetic.reference import VehicleModel

_TERMS = WeightedChoice((12, 24, 36, 48, 60), (0.08, 0.2, 0.37, 0.15, 0.2))
# Days before the due date an on-time payment lands, as 20 equally likely outcomes
# (auto-debit on the day: 60%).
_EARLY_DAYS = (0,) * 12 + (1, 1, 2, 2, 3, 3, 4, 5)
_ISO: dict[int, str] = {}


def iso_day(ordinal: int) -> str:
    """ISO text of a day given as a proleptic ordinal (cached: a portfolio spans few days)."""
    text = _ISO.get(ordinal)
    if text is None:
        text = _ISO[ordinal] = date.fromordinal(ordinal).isoformat()
    return text


@dataclass(frozen=True, slots=True)
class Loan:
    """The financed deal as submitted."""

    product: str
    model: VehicleModel
    model_year: int
    vin: str
    price: float
    down_payment: float | None
    amount: float
    term: int
    instalment: float
    income: float

    @property
    def affordable(self) -> bool:
        """The lender's debt-to-income rule: the instalment is at most half the income."""
        return self.instalment <= 0.5 * self.income


def usual_price(model: VehicleModel, age: int) -> float:
    """What ``model`` usually sells for when ``age`` years old (0: new).

    A car loses about 15% when it leaves the showroom and 12% a year after that.
    """
    return model.usual_price * (0.85 * 0.88**age if age > 0 else 1.0)


def annuity(amount: float, annual_rate: float, term: int) -> float:
    """Equal monthly instalment repaying ``amount`` over ``term`` months."""
    r = annual_rate / 12
    return round(amount * r / (1 - (1 + r) ** -term), 2)


class LoanFactory:
    """Draws deals a dealer would write, honest or manipulated."""

    def __init__(self, identities: IdentityFactory) -> None:
        self.identities = identities
        self.rng = identities.rng

    def draw(
        self,
        dealer: Dealer,
        when: datetime,
        *,
        product: str | None = None,
        model: VehicleModel | None = None,
        markup: float = 1.0,
        down: tuple[float, float] | None = None,
        inflate_income: bool = False,
        car: Loan | None = None,
    ) -> Loan:
        """A deal at ``dealer`` on ``when``.

        The price is the model's :func:`usual_price` for its age, give or take 10%.
        ``markup`` inflates it (power booking), ``down`` fixes the down-payment share
        range, ``inflate_income`` declares an income made up to pass the debt-to-income
        rule, ``car`` finances again the car of an earlier loan (same VIN).
        """
        rng = self.rng
        product = product or dealer.products(rng)
        if car is not None:
            model, year = car.model, car.model_year
        else:
            model = model or rng.choice(dealer.models)
            if product == "used_car":
                year = when.year - rng.randint(1, 8)
            elif product == "refinance":
                year = when.year - rng.randint(1, 6)
            else:  # next year's models are on sale from September
                year = when.year + (when.month >= 9)
        age = max(0, when.year - year)
        price = round(usual_price(model, age) * rng.uniform(0.9, 1.1) * markup, -2)
        if product == "refinance":
            # Refinancing borrows against a car already owned: no down payment.
            down_payment = None
            amount = round(price * rng.uniform(0.5, 0.8), -2)
        else:
            if down is not None:
                share = rng.uniform(*down)
            elif product == "lease":
                share = rng.uniform(0.15, 0.3)
            else:
                share = rng.triangular(0.15, 0.5, 0.25)
            down_payment = round(price * share, -2)
            amount = price - down_payment
        term = _TERMS(rng)
        instalment = annuity(amount, rng.uniform(0.06, 0.08), term)
        if inflate_income:
            # Made-up incomes sit just above what the rule needs, in round thousands.
            income = instalment / rng.uniform(0.25, 0.48)
            income = round(income, -3) + 1000 if rng.random() < 0.75 else round(income, -2)
        else:
            income = max(3000.0, instalment / rng.uniform(0.1, 0.55))
            income = round(income, -3) if rng.random() < 0.25 else round(income, -2)
        vin = car.vin if car is not None else self.identities.vin(model, year)
        return Loan(
            product, model, year, vin, price, down_payment, amount, term, instalment, income
        )


def repayment_rows(
    application_id: str,
    loan: Loan,
    disbursed: date,
    stop_at: int | None,
    as_of: date,
    rng: random.Random,
) -> list[tuple[object, ...]]:
    """The schedule serviced so far, as ``repayments`` rows (contract column order).

    Instalments fall due monthly on the disbursement day (capped at the 28th) from the
    month after disbursement; every one due before ``as_of`` is listed, plus the next one.
    From instalment ``stop_at`` on nothing is paid (``None``: the borrower keeps paying);
    before that, 4% of payments come 1-20 days late, the rest on or just before the day.
    """
    cutoff = as_of.toordinal()
    day = min(disbursed.day, 28) - 1
    month0 = disbursed.year * 12 + disbursed.month - 1
    last = loan.term if stop_at is None else min(stop_at - 1, loan.term)
    amount = loan.instalment
    rows: list[tuple[object, ...]] = []
    append, draw = rows.append, rng.random
    for n in range(1, loan.term + 1):
        due = _month_first(month0 + n) + day
        due_iso = iso_day(due)
        if due >= cutoff or n > last:
            rows.append((application_id, n, due_iso, amount, None, None))
            if due >= cutoff:
                break
            continue
        r = draw()  # one draw decides lateness and by how many days
        paid = due + 1 + int(r * 500) if r < 0.04 else due - _EARLY_DAYS[int((r - 0.04) * 20.8)]
        if paid >= cutoff:
            append((application_id, n, due_iso, amount, None, None))
        else:
            append((application_id, n, due_iso, amount, iso_day(paid), amount))
    return rows


@functools.cache
def _month_first(months: int) -> int:
    """Ordinal of the first day of month ``months`` counted as ``year * 12 + month - 1``."""
    return date(months // 12, months % 12 + 1, 1).toordinal()
