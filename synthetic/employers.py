"""Employers: national giants, local companies, and how applicants type their names.

Giants are the main benign hub on employer fields: one registered name typed a dozen
ways and one switchboard shared by thousands of strangers. Local companies are shared
by a few colleagues each. The pool of local companies is fixed in size per run, so it
costs the same memory for any number of applications.
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
    STREETS,
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
    city: City | None
    address: str
    giant: bool = False


def company_name(rng: random.Random, city: City | None = None, industry: str | None = None) -> str:
    """A plausible registered name of a small or mid-size company."""
    word = rng.choice(COMPANY_WORDS) + rng.choice(COMPANY_WORDS)
    prefix = city.name if city is not None and rng.random() < 0.5 else ""
    suffix = "有限责任公司" if rng.random() < 0.3 else "有限公司"
    return f"{prefix}{word}{industry or rng.choice(INDUSTRIES)}{suffix}"


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
    """Where honest applicants work: a giant, a local company, their own shop, or none."""

    def __init__(self, identities: IdentityFactory, applications: int) -> None:
        self.identities = identities
        self.giants = tuple(
            Employer(g.name, g.switchboard, None, "", giant=True) for g in GIANT_EMPLOYERS
        )
        self._giant = WeightedChoice(self.giants, [g.weight for g in GIANT_EMPLOYERS])
        self.dormitory_giants = tuple(
            e for e, g in zip(self.giants, GIANT_EMPLOYERS, strict=True) if g.dormitories
        )
        # About one local company per 25 applications, capped so memory stays flat.
        per_city = max(4, min(2_000, applications // 25 // len(CITIES)))
        self.local: dict[str, tuple[Employer, ...]] = {
            city.name: tuple(self._local_company(city) for _ in range(per_city)) for city in CITIES
        }

    def _local_company(self, city: City) -> Employer:
        identities = self.identities
        rng = identities.rng
        # Owners of small firms often give their own mobile as the company phone.
        phone = identities.phone() if rng.random() < 0.15 else identities.landline(city)
        return Employer(company_name(rng, city), phone, city, self.site_address(city))

    def site_address(self, city: City) -> str:
        """The address of a company site (depot, factory, office park)."""
        rng = self.identities.rng
        district = rng.choice(city.counties).name
        return self.identities.place(
            city, district, f"{rng.choice(STREETS)}{rng.randrange(1, 900)}号"
        )

    def giant(self) -> Employer:
        return self._giant(self.identities.rng)

    def local_company(self, city: City) -> Employer:
        return self.identities.rng.choice(self.local[city.name])

    def honest(self, city: City) -> Employer | None:
        """An honest applicant's employer; None for the self-employed who leave it blank."""
        rng = self.identities.rng
        r = rng.random()
        if r < 0.16:
            return self.giant()
        if r < 0.62:
            return self.local_company(city)
        if r < 0.88:  # a one-person business: its own name and landline, shared by nobody
            return Employer(
                company_name(rng, city), self.identities.landline(city), city, ""
            )
        return None
