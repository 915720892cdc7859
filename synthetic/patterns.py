"""Groups of applications: the four fraud patterns and the honest look-alikes.

Each builder returns a :class:`Group` of drafts. Fraud groups are linked the way real
rings are, sparsely and through assets their organiser controls; honest groups share
identifiers for innocent reasons (a family home, a company depot, a staff dormitory).
Dealer tablets, showroom Wi-Fi, carrier NAT and giant employers' switchboards are
hubs shared by everyone and are not groups at all.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from synthetic.applications import ApplicationFactory, Draft
from synthetic.dealers import Dealer
from synthetic.employers import Employer, company_name, own_company
from synthetic.identities import format_account, format_phone
from synthetic.reference import LOGISTICS_INDUSTRIES, City

# Identifier kinds a synthetic-identity ring shares through its organiser's assets.
RING_LINKS = ("device_id", "contact_phone", "bank_account", "home_address", "ip_address")


@dataclass(slots=True)
class Group:
    """Applications that belong together in the ground truth."""

    kind: str
    is_fraud: bool
    drafts: list[Draft]
    description: str


@dataclass(frozen=True)
class Structure:
    """A kind of group: how often it occurs, how large it is, how to build it."""

    kind: str
    is_fraud: bool
    share: float  # of all applications
    sizes: tuple[int, ...]  # drawn uniformly; repeats weight a size
    build: Callable[[Patterns, int], Group]


def sparse_links(size: int, kinds: tuple[str, ...], rng: random.Random) -> dict[str, list[int]]:
    """Which members share a value of each identifier kind, linking all ``size`` members.

    Returns, per kind, a value label per member; equal labels mean a shared value. Each
    new member attaches to an earlier one (the previous one half the time, giving
    chains; otherwise any, giving trees) by adopting one of its values, and a value is
    shared by 2 to 4 members at most: the ring is connected, yet no identifier is a hub.
    A member only gives up a value nobody else holds, so earlier links survive.
    """
    labels = {k: list(range(size)) for k in kinds}
    holders = {k: {i: [i] for i in range(size)} for k in kinds}
    caps: dict[tuple[str, int], int] = {}

    def link(i: int, j: int) -> bool:
        options = [
            k
            for k in kinds
            if len(holders[k][labels[k][i]]) == 1
            and labels[k][i] != labels[k][j]
            and len(holders[k][labels[k][j]])
            < caps.setdefault((k, labels[k][j]), rng.choice((2, 3, 3, 4)))
        ]
        if not options:
            return False
        k = rng.choice(options)
        value = labels[k][j]
        del holders[k][labels[k][i]]
        holders[k][value].append(i)
        labels[k][i] = value
        return True

    for i in range(1, size):
        candidates = [i - 1] if rng.random() < 0.5 else []
        candidates += rng.sample(range(i), i)
        if not any(link(i, j) for j in candidates):
            raise AssertionError(f"member {i} of {size} could not be linked")  # pragma: no cover
    for _ in range(size // 4):  # a few extra links close cycles
        i, j = rng.sample(range(size), 2)
        link(i, j)
    return labels


class Patterns:
    """Builds groups from an application factory."""

    def __init__(self, factory: ApplicationFactory) -> None:
        self.factory = factory
        self.rng = factory.rng
        self.identities = factory.identities
        self.dealers = factory.dealers
        self.employers = factory.employers
        self.loans = factory.loans
        self.timeline = factory.timeline

    # --- helpers ------------------------------------------------------------------

    def _fraud_outcome(
        self, draft: Draft, disburse: float, first_default: float, bust_out: float
    ) -> None:
        """Mark a draft fraudulent: funded regardless of the income rule, then unpaid.

        ``first_default`` is the share never paying instalment 1; ``bust_out`` the share
        paying a few instalments before stopping; the rest keep paying (so far).
        """
        rng = self.rng
        draft.is_fraud = True
        draft.disbursed = (
            self.factory.disbursement(draft.submitted) if rng.random() < disburse else None
        )
        r = rng.random()
        draft.stop_at = (
            1 if r < first_default else rng.randint(2, 6) if r < first_default + bust_out else None
        )

    def _dealers_in(self, city: City, count: int) -> list[Dealer]:
        """Up to ``count`` distinct dealers, preferring ``city``."""
        chosen: dict[str, Dealer] = {}
        for _ in range(count * 4):
            dealer = self.dealers.pick_in(self.rng, city)
            chosen.setdefault(dealer.dealer_id, dealer)
            if len(chosen) == count:
                break
        return list(chosen.values())

    def _burst(self, start: datetime, days: int, odd_hours: float = 0.0) -> datetime:
        """An instant within ``days`` after ``start``."""
        day = (start + timedelta(days=self.rng.uniform(0, days))).date()
        return self.timeline.clamp(max(start, self.timeline.at(day, odd_hours)))

    def _window_start(self, days: int) -> datetime:
        """A start leaving ``days`` before the export date for the group to unfold."""
        timeline = self.timeline
        return timeline.instant(
            latest=max(timeline.start + timedelta(days=1), timeline.end - timedelta(days=days))
        )

    def _organiser_asset(self, kind: str, city: City) -> str:
        """A ring organiser's identifier of ``kind``, shared by a few of the members."""
        ids = self.identities
        if kind == "device_id":
            return ids.device()
        if kind == "contact_phone":  # often a cheap virtual-operator SIM
            return ids.phone(virtual=self.rng.random() < 0.6)
        if kind == "bank_account":
            return ids.bank_account()
        if kind == "home_address":  # a rented flat
            return ids.address(city)
        return ids.residential_ip()

    # --- fraud ----------------------------------------------------------------------

    def synthetic_identity_ring(self, size: int) -> Group:
        """One organiser files 4-12 applications under fabricated identities.

        Members are linked only through the organiser's assets (a device, a phone given
        as the emergency contact, a payout account, a rented flat, a home IP), each
        shared by 2-4 members, so the ring is connected but has no hub.
        """
        rng, ids = self.rng, self.identities
        city = self.dealers.pick(self.rng).city
        dealers = self._dealers_in(city, rng.choice((1, 1, 2, 2, 3)))
        agents = {d.dealer_id: d.agent(rng) for d in dealers}
        span = rng.randint(10, 56)
        start = self._window_start(span + 30)
        labels = sparse_links(size, RING_LINKS, rng)
        # One value per shared label: the organiser's devices, phones, accounts, flats, IP.
        assets = {
            (kind, label): self._organiser_asset(kind, city)
            for kind in RING_LINKS
            for label in sorted(set(labels[kind]))
            if labels[kind].count(label) > 1
        }
        drafts = []
        for i in range(size):
            dealer = rng.choice(dealers)
            person = ids.person(city, ages=(22, 45), virtual_phone=rng.random() < 0.55)
            when = self._burst(start, span, odd_hours=0.15)
            model = max(
                rng.choice(dealer.models), rng.choice(dealer.models), key=lambda m: m.usual_price
            )
            product = "used_car" if dealer.kind == "used" else None
            loan = self.loans.draw(
                dealer, when, product=product, model=model, down=(0.15, 0.22), inflate_income=True
            )
            fake = own_company(ids, city)
            draft = self.factory.draft(
                person, dealer, when, loan=loan, employer=fake if rng.random() < 0.8 else None
            )
            row = draft.row
            row["sales_agent_id"] = agents[dealer.dealer_id]
            # Keyed in on a member's own phone or on the dealer's tablet; never all on
            # the tablet, which would make the store's hub the ring's only link.
            on_tablet = i > 0 and rng.random() < 0.35
            for kind in RING_LINKS:
                value = assets.get((kind, labels[kind][i]))
                if value is not None:
                    row[kind] = _typed(kind, value, rng)
                elif kind == "device_id":
                    row[kind] = rng.choice(dealer.tablets) if on_tablet else ids.device()
                elif kind == "ip_address":
                    row[kind] = dealer.wifi_ip if on_tablet else self.factory.own_ip()
            draft.role = "fabricated_identity"
            self._fraud_outcome(draft, disburse=0.9, first_default=0.65, bust_out=0.25)
            drafts.append(draft)
        shared = {k: len({lab for (kk, lab) in assets if kk == k}) for k in RING_LINKS}
        return Group(
            "synthetic_identity_ring",
            True,
            drafts,
            f"{size} fabricated identities at {', '.join(agents)} over {span} days; "
            + ", ".join(f"{n} shared {k}" for k, n in shared.items() if n),
        )

    def identity_theft(self, size: int) -> Group:
        """One real person's ID number used at 3-5 dealers within days.

        Every application has its own phone, device and payout account; only the
        victim's ID and name (and sometimes their address or employer) repeat. Now and
        then the victim is also a genuine customer, which makes the ID itself no proof.
        """
        rng, ids = self.rng, self.identities
        city = self.dealers.pick(self.rng).city
        victim = ids.person(city)
        employer = self.factory.honest_employer(city)
        start = self._window_start(20)
        genuine = size >= 4 and rng.random() < 0.3
        stolen = size - 1 if genuine else size
        dealers = self._dealers_in(city, stolen)
        while len(dealers) < stolen:  # few dealers in this city: go to neighbouring ones
            other = self.dealers.pick(self.rng)
            if other.dealer_id not in {d.dealer_id for d in dealers}:
                dealers.append(other)
        drafts: list[Draft] = []
        accounts: list[str] = []
        for dealer in dealers:
            impostor = replace(
                victim,
                phone=ids.phone(virtual=rng.random() < 0.5),
                address=victim.address if rng.random() < 0.4 else ids.address(city),
            )
            fake = employer if rng.random() < 0.5 else own_company(ids, city)
            when = self._burst(start, 6, odd_hours=0.1)
            draft = self.factory.draft(impostor, dealer, when, employer=fake)
            if rng.random() >= dealer.tablet_share * 0.5:  # mostly from the impostor's phone
                draft.row["device_id"] = ids.device()
                draft.row["ip_address"] = self.factory.own_ip()
            if accounts and rng.random() < 0.3:  # the fraudster reuses a payout account
                draft.row["bank_account"] = format_account(rng.choice(accounts), rng)
            else:
                accounts.append(ids.bank_account())
                draft.row["bank_account"] = format_account(accounts[-1], rng)
            draft.role = "stolen_identity"
            self._fraud_outcome(draft, disburse=0.6, first_default=0.8, bust_out=0.15)
            drafts.append(draft)
        if genuine:
            # The victim's own application, months away from the theft.
            offset = timedelta(days=rng.choice((-1, 1)) * rng.randint(60, 300))
            when = self.timeline.clamp(start + offset)
            drafts.append(
                self.factory.draft(
                    victim,
                    self.dealers.pick_in(self.rng, city),
                    when,
                    employer=employer,
                    role="victim_genuine",
                )
            )
        return Group(
            "identity_theft",
            True,
            drafts,
            f"one ID used at {_count(stolen, 'dealer')} "
            f"({', '.join(d.dealer_id for d in dealers)}) within 6 days"
            + ("; the victim also applied genuinely" if genuine else ""),
        )

    def fake_employer_mill(self, size: int) -> Group:
        """A fake company 'employs' 6-15 applicants to vouch for made-up incomes.

        Its employer phone is a mobile: the operator's, who is either one of the
        applicants or the emergency contact of a few. Otherwise members are only
        loosely linked: a shared flat here, a shared office IP there.
        """
        rng, ids = self.rng, self.identities
        city = self.dealers.pick(self.rng).city
        operator = ids.person(city, ages=(28, 55))
        mill = Employer(company_name(rng, city), operator.phone)
        dealers = self._dealers_in(city, rng.randint(2, 5))
        span = rng.randint(30, 120)
        start = self._window_start(span + 30)
        office_ip = ids.residential_ip()
        operator_applies = rng.random() < 0.5
        contacts_of_operator = set(rng.sample(range(size), min(size, rng.randint(1, 3))))
        drafts = []
        for i in range(size):
            person = operator if operator_applies and i == 0 else ids.person(city, ages=(22, 50))
            dealer = rng.choice(dealers)
            when = self._burst(start, span)
            loan = self.loans.draw(dealer, when, inflate_income=True)
            draft = self.factory.draft(person, dealer, when, loan=loan, employer=mill)
            row = draft.row
            if rng.random() < 0.15:
                row["employer_phone"] = None
            if i in contacts_of_operator and person is not operator:
                row["contact_name"] = operator.name
                row["contact_phone"] = format_phone(operator.phone, rng)
            draft.role = "mill_operator" if person is operator else "mill_employee"
            self._fraud_outcome(draft, disburse=0.85, first_default=0.45, bust_out=0.35)
            drafts.append(draft)
        # Loose links: recruits sharing a flat, forms filled in at the mill's office.
        for _ in range(rng.randint(1, 2)):
            a, b = rng.sample(drafts, 2)
            b.row["home_address"] = a.row["home_address"]
        for draft in rng.sample(drafts, rng.randint(2, 4)):
            draft.row["ip_address"] = office_ip
        return Group(
            "fake_employer_mill",
            True,
            drafts,
            f"{size} applicants employed by fake company {mill.name} whose phone is a mobile "
            f"({'an applicant' if operator_applies else 'a contact'}'s), "
            f"at {_count(len(dealers), 'dealer')} over {span} days",
        )

    def dealer_cashout(self, size: int) -> Group:
        """A dealer's finance manager books 5-15 straw borrowers for cash.

        Prices are inflated 20-50% over the model's usual one, down payments minimal,
        some cars financed twice under the same VIN, and payouts go to a few accounts
        the agent controls. Everything is keyed in on the dealer's own tablet and Wi-Fi,
        inside its honest traffic.
        """
        rng, ids = self.rng, self.identities
        dealer = self.dealers.pick(rng, kind=rng.choice(("used", "4s")))
        agent = rng.choice(dealer.agents)
        agent_phone = ids.phone()
        tablet = rng.choice(dealer.tablets)
        span = rng.randint(20, 90)
        start = self._window_start(span + 30)
        times = sorted(self._burst(start, span) for _ in range(size))
        # The same car financed twice: in disjoint pairs, the later application reuses
        # the earlier one's VIN (and so its model).
        paired = sorted(rng.sample(range(size), 2 * max(1, size // 5)))
        rng.shuffle(paired)
        reuses = {max(a, b): min(a, b) for a, b in zip(paired[::2], paired[1::2], strict=True)}
        product = (
            "used_car" if dealer.kind == "used" else "new_car" if dealer.kind == "4s" else None
        )
        drafts: list[Draft] = []
        for i, when in enumerate(times):
            person = ids.person(dealer.city, ages=(22, 62))
            earlier = drafts[reuses[i]].loan if i in reuses else None
            loan = self.loans.draw(
                dealer, when, product=product, markup=rng.uniform(1.2, 1.5), down=(0.15, 0.18),
                inflate_income=True, car=earlier,
            )  # fmt: skip
            employer = self.factory.honest_employer(dealer.city) if rng.random() < 0.6 else None
            draft = self.factory.draft(person, dealer, when, loan=loan, employer=employer)
            row = draft.row
            row["sales_agent_id"] = agent
            if rng.random() < 0.8:
                row["device_id"], row["ip_address"] = tablet, dealer.wifi_ip
            draft.role = "straw_borrower_reused_vin" if earlier else "straw_borrower"
            self._fraud_outcome(draft, disburse=0.95, first_default=0.6, bust_out=0.3)
            drafts.append(draft)
        # Payout accounts the agent controls, each used by 2-4 borrowers.
        order = rng.sample(range(size), size)
        cursor = 0
        for _ in range(max(1, size // 4)):
            members = order[cursor : cursor + rng.randint(2, 4)]
            cursor += len(members)
            account = ids.bank_account()
            for m in members:
                drafts[m].row["bank_account"] = format_account(account, rng)
        for m in rng.sample(range(size), min(size, rng.randint(2, 3))):
            drafts[m].row["contact_phone"] = format_phone(agent_phone, rng)
        return Group(
            "dealer_cashout",
            True,
            drafts,
            f"{size} straw borrowers booked by agent {agent} at {dealer.dealer_id} "
            f"over {span} days; prices inflated 20-50%, minimal down payments, VINs reused",
        )

    # --- honest structures ---------------------------------------------------------

    def singleton(self) -> Draft:
        """A plain honest application: the bulk of the portfolio, in no group."""
        dealer = self.dealers.pick(self.rng)
        city = dealer.city if self.rng.random() < 0.9 else self.identities.city()
        person = self.identities.person(city)
        return self.factory.draft(person, dealer, self.timeline.instant())

    def family(self, size: int) -> Group:
        """Two to four relatives sharing a home and naming each other as contacts."""
        rng, ids = self.rng, self.identities
        city = self.dealers.pick(self.rng).city
        home = ids.address(city)
        home_ip = ids.residential_ip()
        surname = ids.surname()
        parents_ages = (45, 65) if size > 2 else (24, 60)
        members = [ids.person(city, male=True, surname=surname, ages=parents_ages)]
        members.append(ids.person(city, male=False, ages=parents_ages))
        members += [ids.person(city, surname=surname, ages=(22, 32)) for _ in range(size - 2)]
        members = [replace(m, address=home) for m in members]
        # Each names a relative: the couple each other, children a parent.
        contact_of = [1, 0] + [rng.randrange(2) for _ in range(size - 2)]
        dealer = self.dealers.pick_in(self.rng, city)
        drafts = []
        for i, person in enumerate(members):
            when = self.timeline.instant()
            where = dealer if rng.random() < 0.3 else self.dealers.pick_in(self.rng, city)
            draft = self.factory.draft(person, where, when, role="relative")
            row = draft.row
            relative = members[contact_of[i]]
            row["contact_name"] = relative.name
            row["contact_phone"] = format_phone(relative.phone, rng)
            if rng.random() < 0.25:
                row["home_address"] = _stray_space(home, rng)
            if row["device_id"] not in where.tablets and rng.random() < 0.5:
                row["ip_address"] = home_ip  # applied from home
            drafts.append(draft)
        if rng.random() < 0.2:  # a joint account
            drafts[1].row["bank_account"] = drafts[0].row["bank_account"]
        return Group("family", False, drafts, f"{size} relatives sharing a home in {city.name}")

    def fleet(self, size: int) -> Group:
        """A small haulier buys 3-8 commercial vehicles on one day at one dealer.

        Same employer, depot address and company account, the owner's phone as every
        driver's contact, one tablet: as dense as any ring, and honest.
        """
        rng, ids = self.rng, self.identities
        dealer = self.dealers.pick(self.rng, kind="commercial")
        city = dealer.city
        company = Employer(
            company_name(rng, city, rng.choice(LOGISTICS_INDUSTRIES)),
            ids.landline(city),
            ids.site_address(city),
        )
        account = ids.bank_account()
        owner = ids.person(city, ages=(30, 60))
        first = self.timeline.instant()
        model = rng.choice(dealer.models)
        tablet, agent = rng.choice(dealer.tablets), dealer.agent(rng)
        drafts = []
        for i in range(size):
            person = owner if i == 0 else ids.person(city, ages=(24, 58))
            when = self.timeline.clamp(first + timedelta(minutes=rng.randint(0, 120)))
            loan = self.loans.draw(
                dealer,
                when,
                product="commercial_vehicle",
                model=model if rng.random() < 0.7 else None,
            )
            draft = self.factory.draft(
                person, dealer, when, loan=loan, employer=company, role="fleet_driver"
            )
            row = draft.row
            row["home_address"] = company.address
            row["bank_account"] = format_account(account, rng)
            row["device_id"], row["ip_address"] = tablet, dealer.wifi_ip
            row["sales_agent_id"] = agent
            if i:
                row["contact_name"] = owner.name
                row["contact_phone"] = format_phone(owner.phone, rng)
            drafts.append(draft)
        drafts[0].role = "fleet_owner"
        return Group(
            "fleet",
            False,
            drafts,
            f"{size} vehicles for {company.name} at {dealer.dealer_id} on one day",
        )

    def dormitory(self, size: int) -> Group:
        """Staff of one employer living in its dormitory, applying independently."""
        rng, ids = self.rng, self.identities
        city = self.dealers.pick(self.rng).city
        if rng.random() < 0.6:
            employer = rng.choice(self.employers.dormitory_giants)
        else:
            employer = self.employers.local_company(rng, city)
        dorm = f"{ids.site_address(city)}员工宿舍{rng.randint(1, 12)}栋"
        drafts = []
        for _ in range(size):
            person = replace(ids.person(city, ages=(22, 40)), address=dorm)
            if rng.random() < 0.25:
                person = replace(
                    person, address=f"{dorm}{rng.randint(1, 6)}{rng.randint(1, 30):02d}室"
                )
            draft = self.factory.draft(
                person,
                self.dealers.pick_in(self.rng, city),
                self.timeline.instant(),
                employer=employer,
                role="resident",
            )
            drafts.append(draft)
        return Group(
            "dormitory",
            False,
            drafts,
            f"{size} staff of {employer.name} in one dormitory in {city.name}",
        )

    def repeat_customer(self, size: int) -> Group:
        """The same person back for another car a year or more later, same phone."""
        rng, ids = self.rng, self.identities
        city = self.dealers.pick(self.rng).city
        person = ids.person(city, ages=(25, 60))
        employer = self.factory.honest_employer(city)
        dealer = self.dealers.pick_in(self.rng, city)
        gap_days = 365 * (size - 1) + 60
        when = self.timeline.instant(latest=self.timeline.end - timedelta(days=gap_days))
        drafts = []
        for i in range(size):
            if i:
                when = self.timeline.clamp(when + timedelta(days=rng.randint(365, 365 + 120)))
                if rng.random() < 0.3:
                    person = replace(person, address=ids.address(city))  # moved house
                if rng.random() < 0.3:
                    employer = self.factory.honest_employer(city)  # changed jobs
                if rng.random() < 0.5:
                    dealer = self.dealers.pick_in(self.rng, city)
            drafts.append(
                self.factory.draft(
                    person, dealer, when, employer=employer, role=f"application_{i + 1}"
                )
            )
        return Group(
            "repeat_customer",
            False,
            drafts,
            f"one customer, {size} applications a year or more apart",
        )


def _typed(kind: str, value: str, rng: random.Random) -> str:
    """A shared identifier as one member types it (phones and accounts vary in format)."""
    if kind == "contact_phone":
        return format_phone(value, rng)
    return format_account(value, rng) if kind == "bank_account" else value


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _stray_space(text: str, rng: random.Random) -> str:
    cut = rng.randrange(3, max(4, len(text) - 3))
    return text[:cut] + " " + text[cut:]


#: Every kind of group, with its share of applications and its sizes. Honest
#: structures hold about 16% of applications, fraud about 3%.
STRUCTURES: tuple[Structure, ...] = (
    Structure("synthetic_identity_ring", True, 0.011, (4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12),
              Patterns.synthetic_identity_ring),
    Structure("identity_theft", True, 0.005, (3, 3, 4, 4, 5), Patterns.identity_theft),
    Structure("fake_employer_mill", True, 0.008, tuple(range(6, 16)), Patterns.fake_employer_mill),
    Structure("dealer_cashout", True, 0.008, tuple(range(5, 16)), Patterns.dealer_cashout),
    Structure("family", False, 0.06, (2, 2, 2, 3, 3, 4), Patterns.family),
    Structure("fleet", False, 0.015, tuple(range(3, 9)), Patterns.fleet),
    Structure("dormitory", False, 0.04, tuple(range(5, 26)), Patterns.dormitory),
    # Two applications a year or more apart are all a two-year window holds.
    Structure("repeat_customer", False, 0.05, (2,), Patterns.repeat_customer),
)  # fmt: skip
