"""One application as an honest applicant submits it; patterns then bend its fields.

A :class:`Draft` is an application before it has an id: the contract row plus what only
the generator knows (is it fraud, will it be disbursed, when does the borrower stop
paying, what will investigators conclude). Ids are given when a chunk is written, after
its drafts are shuffled, so nothing about an id hints at the group it belongs to.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum

from synthetic.dealers import Dealer, DealerNetwork
from synthetic.employers import Employer, EmployerPool, own_company, typed_employer
from synthetic.identities import (
    IdentityFactory,
    Person,
    format_account,
    format_phone,
    typed_id_number,
)
from synthetic.loans import Loan, LoanFactory
from synthetic.reference import City
from synthetic.timeline import Timeline


class _Unset(Enum):
    UNSET = "unset"


UNSET = _Unset.UNSET


@dataclass(frozen=True, slots=True)
class Label:
    """An outcome investigators recorded for an application."""

    label: str
    source: str
    labeled_at: datetime


@dataclass(slots=True)
class Draft:
    """An application without its id, with the ground truth the generator keeps."""

    row: dict[str, object]
    submitted: datetime
    loan: Loan
    disbursed: date | None
    # First instalment not paid; None while the borrower keeps paying.
    stop_at: int | None = None
    role: str = ""
    is_fraud: bool = False
    label: Label | None = None


def is_mobile(phone: str) -> bool:
    return len(phone) == 11 and phone[0] == "1"


class ApplicationFactory:
    """Builds drafts with the honest defaults every pattern starts from."""

    def __init__(
        self,
        identities: IdentityFactory,
        employers: EmployerPool,
        dealers: DealerNetwork,
        loans: LoanFactory,
        timeline: Timeline,
    ) -> None:
        self.identities = identities
        self.employers = employers
        self.dealers = dealers
        self.loans = loans
        self.timeline = timeline
        self.rng: random.Random = identities.rng

    def channel(self, dealer: Dealer) -> tuple[str | None, str | None]:
        """Device and IP an honest application comes from.

        Most are keyed in on one of the dealer's tablets over its Wi-Fi; the rest come
        from the applicant's phone, usually behind a carrier NAT shared with thousands.
        """
        rng = self.rng
        identities = self.identities
        if rng.random() < dealer.tablet_share:
            device: str | None = (
                dealer.tablets[0] if rng.random() < 0.6 else rng.choice(dealer.tablets)
            )
            ip: str | None = dealer.wifi_ip if rng.random() < 0.92 else identities.carrier_nat()
        else:
            device, ip = identities.device(), self.own_ip()
        # Optional fields go missing now and then (old app versions, export gaps).
        if rng.random() < 0.02:
            device = None
        if rng.random() < 0.02:
            ip = None
        return device, ip

    def own_ip(self) -> str:
        """The IP of an application sent from the applicant's own phone or home line."""
        identities, r = self.identities, self.rng.random()
        if r < 0.55:
            return identities.carrier_nat()
        return identities.residential_ip() if r < 0.92 else identities.ipv6()

    def honest_employer(self, city: City) -> Employer | None:
        """An honest applicant's employer; None for those who leave it blank."""
        rng = self.rng
        r = rng.random()
        if r < 0.16:
            return self.employers.giant(rng)
        if r < 0.62:
            return self.employers.local_company(rng, city)
        if r < 0.88:  # a one-person business: its own name and landline, shared by nobody
            return own_company(self.identities, city)
        return None

    def contact(self, applicant: Person) -> tuple[str, str]:
        """A fresh emergency contact (name, typed phone): often a relative, shared with nobody."""
        rng = self.rng
        identities = self.identities
        surname = applicant.name[0] if rng.random() < 0.35 else None
        return identities.name(rng.random() < 0.5, surname), format_phone(identities.phone(), rng)

    def employer_fields(self, employer: Employer | None) -> tuple[str | None, str | None]:
        """The employer's name and phone as this applicant types them."""
        if employer is None:
            return None, None
        rng = self.rng
        phone: str | None = None
        if employer.phone and rng.random() < 0.85:
            phone = (
                format_phone(employer.phone, rng) if is_mobile(employer.phone) else employer.phone
            )
        return typed_employer(employer, rng), phone

    def draft(
        self,
        person: Person,
        dealer: Dealer,
        when: datetime,
        *,
        loan: Loan | None = None,
        employer: Employer | None | _Unset = UNSET,
        role: str = "",
    ) -> Draft:
        """An honest application by ``person`` at ``dealer`` on ``when``.

        Patterns overwrite fields of the returned draft's row to link it to others.
        """
        rng = self.rng
        if employer is UNSET:
            employer = self.honest_employer(person.city)
        loan = loan or self.loans.draw(dealer, when)
        device, ip = self.channel(dealer)
        employer_name, employer_phone = self.employer_fields(employer)
        contact_name, contact_phone = self.contact(person)
        row: dict[str, object] = {
            "submitted_at": when.isoformat(),
            "dealer_id": dealer.dealer_id,
            "sales_agent_id": dealer.agent(rng) if rng.random() < 0.97 else None,
            "product": loan.product,
            "applicant_id_number": typed_id_number(person.id_number, rng),
            "applicant_name": person.name,
            "applicant_phone": format_phone(person.phone, rng),
            "device_id": device,
            "ip_address": ip,
            "employer_name": employer_name,
            "employer_phone": employer_phone,
            "home_address": person.address,
            "contact_name": contact_name,
            "contact_phone": contact_phone,
            "bank_account": format_account(self.identities.bank_account(), rng),
            "vehicle_vin": loan.vin,
            "vehicle_model": loan.model.name,
            "vehicle_price": loan.price,
            "loan_amount": loan.amount,
            "down_payment": loan.down_payment,
            "term_months": loan.term,
            "monthly_income": loan.income,
        }
        # The lender declines what breaks the income rule; some applicants walk away.
        disbursed = self.disbursement(when) if loan.affordable and rng.random() < 0.9 else None
        # A few honest borrowers fall behind for good (job loss, illness) in year one.
        stop_at = rng.randint(2, 10) if rng.random() < 0.025 else None
        return Draft(row, when, loan, disbursed, stop_at=stop_at, role=role)

    def disbursement(self, when: datetime) -> date | None:
        """Funds go out within a couple of days, if that is before the export date."""
        day = when.date() + timedelta(days=self.rng.choice((0, 0, 1, 1, 2)))
        return day if day < self.timeline.as_of else None
