"""Dealers: who submits applications, from which tablets and showroom Wi-Fi.

A dealer's tablets and Wi-Fi address are the largest benign hubs of the portfolio:
at a busy store hundreds of unrelated customers share one device and one IP.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from stdnum.cn import uscc

from synthetic.identities import IdentityFactory, WeightedChoice
from synthetic.reference import (
    COMPANY_WORDS,
    DEALER_NAME_TEMPLATES,
    VEHICLE_MODELS,
    City,
    VehicleModel,
)

# Which products each kind of dealer sells, with their shares.
PRODUCTS_BY_KIND: dict[str, tuple[tuple[str, float], ...]] = {
    "4s": (("new_car", 0.72), ("lease", 0.18), ("refinance", 0.10)),
    "used": (("used_car", 0.85), ("refinance", 0.15)),
    "commercial": (("commercial_vehicle", 0.85), ("lease", 0.15)),
}
_KINDS = WeightedChoice(("4s", "used", "commercial"), (0.68, 0.22, 0.10))
_PASSENGER = tuple(m for m in VEHICLE_MODELS if not m.commercial)
_COMMERCIAL = tuple(m for m in VEHICLE_MODELS if m.commercial)
_BRANDS = tuple(dict.fromkeys(m.brand for m in _PASSENGER))
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True, slots=True)
class Dealer:
    """A dealer with the equipment and staff its applications come through."""

    dealer_id: str
    name: str
    city: City
    unified_social_credit_code: str | None
    onboarded_on: date
    kind: str
    models: tuple[VehicleModel, ...]
    agents: tuple[str, ...]
    tablets: tuple[str, ...]
    wifi_ip: str
    # Share of this dealer's honest applications keyed in on its own tablets.
    tablet_share: float
    products: WeightedChoice[str]
    agent: WeightedChoice[str]

    def row(self) -> tuple[object, ...]:
        """The dealer as a row of the ``dealers`` table (contract column order)."""
        return (
            self.dealer_id,
            self.name,
            self.city.name,
            self.unified_social_credit_code,
            self.onboarded_on.isoformat(),
        )


def credit_code(rng: random.Random, city: City) -> str:
    """A valid 18-character USCC registered in ``city``.

    The organisation code (characters 9-17) carries its own GB 11714 check digit, and
    the last character is the USCC check computed by python-stdnum.
    """
    digits = [rng.randrange(10) for _ in range(8)]
    check = 11 - sum(d * w for d, w in zip(digits, _ORG_WEIGHTS, strict=True)) % 11
    org = "".join(map(str, digits)) + {10: "X", 11: "0"}.get(check, str(check))
    draft = f"91{rng.choice(city.counties).code}{org}"
    return draft + uscc.calc_check_digit(draft)


class DealerNetwork:
    """The lender's dealers, drawn once per portfolio; about one per 300 applications.

    Built from the portfolio's set-up draws; picking takes the caller's ``rng`` so that
    every chunk draws from its own stream.
    """

    def __init__(self, identities: IdentityFactory, applications: int, window_start: datetime):
        rng = identities.rng
        count = max(8, round(applications / 300))
        self.dealers: tuple[Dealer, ...] = tuple(
            _dealer(identities, i, window_start) for i in range(count)
        )
        # Sizes are heavy-tailed: a few big stores submit a large share of the volume.
        weights = {d.dealer_id: rng.lognormvariate(0.0, 1.0) for d in self.dealers}
        by_city: dict[str, list[Dealer]] = {}
        by_kind: dict[str, list[Dealer]] = {}
        for dealer in self.dealers:
            by_city.setdefault(dealer.city.name, []).append(dealer)
            by_kind.setdefault(dealer.kind, []).append(dealer)

        def chooser(dealers: Sequence[Dealer]) -> WeightedChoice[Dealer]:
            return WeightedChoice(dealers, [weights[d.dealer_id] for d in dealers])

        self._any = chooser(self.dealers)
        self._in_city = {name: chooser(ds) for name, ds in by_city.items()}
        self._of_kind = {kind: chooser(ds) for kind, ds in by_kind.items()}

    def pick(self, rng: random.Random, kind: str | None = None) -> Dealer:
        """A dealer drawn by volume; ``kind`` prefers 4S, used or commercial stores."""
        return self._of_kind.get(kind or "", self._any)(rng)

    def pick_in(self, rng: random.Random, city: City) -> Dealer:
        """A dealer in ``city`` if there is one, else any dealer."""
        return self._in_city.get(city.name, self._any)(rng)


def _dealer(identities: IdentityFactory, index: int, window_start: datetime) -> Dealer:
    rng = identities.rng
    city = identities.city()
    # The first three stores cover every kind, so each pattern finds its kind of dealer.
    kind = ("4s", "used", "commercial")[index] if index < 3 else _KINDS(rng)
    if kind == "4s":
        brand = rng.choice(_BRANDS)
        models = tuple(m for m in _PASSENGER if m.brand == brand)
    elif kind == "used":
        brand, models = "", _PASSENGER
    else:
        brand, models = "", _COMMERCIAL
    word = rng.choice(COMPANY_WORDS) + rng.choice(COMPANY_WORDS)
    name = rng.choice(DEALER_NAME_TEMPLATES[kind]).format(city=city.name, word=word, brand=brand)
    # Every dealer was onboarded before the window, so no group's timing is bent by a
    # store that did not exist yet.
    onboarded = window_start.date() - timedelta(days=rng.randrange(30, 3650))
    n_agents = rng.randint(2, 8)
    agents = tuple(f"SA{index * 10 + j:05d}" for j in range(n_agents))
    tablets = tuple(identities.device() for _ in range(rng.choice((1, 1, 2, 2, 3))))
    products = PRODUCTS_BY_KIND[kind]
    return Dealer(
        dealer_id=f"D{index:04d}",
        name=name,
        city=city,
        unified_social_credit_code=credit_code(rng, city) if rng.random() < 0.85 else None,
        onboarded_on=onboarded,
        kind=kind,
        models=models,
        agents=agents,
        tablets=tablets,
        wifi_ip=identities.business_ip(),
        tablet_share=rng.uniform(0.45, 0.8),
        products=WeightedChoice([p for p, _ in products], [w for _, w in products]),
        # One or two finance managers handle most of a store's files.
        agent=WeightedChoice(agents, [0.6**j for j in range(n_agents)]),
    )
