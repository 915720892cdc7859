"""Employers: national giants, local companies, and how applicants type their names.

Giants are the main benign hub on employer fields: one registered name typed a dozen
ways and one switchboard shared by thousands of strangers. Local companies are shared
by a few colleagues each. The pool of local companies is capped, so its memory does
not keep growing with the number of applications.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from synthetic.identities import IdentityFactory, WeightedChoice
from synthetic.reference import (
    CITIES,
    COMPANY_WORDS,
    GIANT_ALIASES,
    GIANT_EMPLOYERS,
    INDUSTRIES,
    City,
)

_HALF = "()0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Full-width forms sit at a fixed offset from ASCII; brackets are typed full-width too.
_FULL_WIDTH = str.maketrans(_HALF, "（）" + "".join(chr(ord(c) + 0xFEE0) for c in _HALF[2:]))


@dataclass(frozen=True, slots=True)
class Employer:
    """An employer as registered: canonical name, the phone staff give, a site address."""

    name: str
    phone: str
    address: str = ""


def company_name(rng: random.Random, city: City | None = None, industry: str | None = None) -> str:
    """A plausible registered name of a small or mid-size company."""
    word = rng.choice(COMPANY_WORDS) + rng.choice(COMPANY_WORDS)
    prefix = city.name if city is not None and rng.random() < 0.5 else ""
    suffix = "有限责任公司" if rng.random() < 0.3 else "有限公司"
    return f"{prefix}{word}{industry or rng.choice(INDUSTRIES)}{suffix}"


def own_company(identities: IdentityFactory, city: City) -> Employer:
    """A company only this applicant names: a one-person business, or a made-up one."""
    return Employer(company_name(identities.rng, city), identities.landline(city))


def typed_employer(employer: Employer, rng: random.Random) -> str:
    """The employer's name as one applicant types it.

    Variants seen in real exports: the short brand instead of the registered name,
    有限公司 and 有限责任公司 swapped, full-width brackets and digits, stray spaces.
    """
    name = employer.name
    r = rng.random()
    if r < 0.5:
        return name
    aliases = GIANT_ALIASES.get(name)
    if aliases and r < 0.62:
        return rng.choice(aliases)
    if r < 0.75:
        if name.endswith("有限责任公司"):
            name = name[: -len("有限责任公司")] + "有限公司"
        elif name.endswith("有限公司"):
            name = name[: -len("有限公司")] + "有限责任公司"
    elif r < 0.85:
        name = name.translate(_FULL_WIDTH)
    if rng.random() < 0.2:
        where = rng.random()
        if where < 0.5:
            name = " " + name
        elif where < 0.75:
            name = name + " "
        else:
            cut = rng.randrange(2, max(3, len(name) - 4))
            name = name[:cut] + " " + name[cut:]
    return name


class EmployerPool:
    """Employers shared between applicants: national giants and each city's companies.

    Built from the portfolio's set-up draws; picking takes the caller's ``rng``.
    """

    def __init__(self, identities: IdentityFactory, applications: int) -> None:
        rng = identities.rng
        self.giants = tuple(Employer(g.name, g.switchboard) for g in GIANT_EMPLOYERS)
        self._giant = WeightedChoice(self.giants, [g.weight for g in GIANT_EMPLOYERS])
        self.dormitory_giants = tuple(
            e for e, g in zip(self.giants, GIANT_EMPLOYERS, strict=True) if g.dormitories
        )
        # About one local company per 25 applications, capped so memory stays flat.
        per_city = max(4, min(2_000, applications // 25 // len(CITIES)))
        self.local: dict[str, tuple[Employer, ...]] = {}
        for city in CITIES:
            companies = []
            for _ in range(per_city):
                # Owners of small firms often give their own mobile as the company phone.
                phone = identities.phone() if rng.random() < 0.15 else identities.landline(city)
                companies.append(
                    Employer(company_name(rng, city), phone, identities.site_address(city))
                )
            self.local[city.name] = tuple(companies)

    def giant(self, rng: random.Random) -> Employer:
        return self._giant(rng)

    def local_company(self, rng: random.Random, city: City) -> Employer:
        return rng.choice(self.local[city.name])
