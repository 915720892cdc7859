"""People and their identifiers: ID numbers, names, phones, accounts, devices, IPs, VINs.

Identifiers that must never collide between strangers (phones, bank accounts, VINs,
residential IPs) come from a seeded affine permutation of a counter: unique by
construction, random-looking, and free of per-value memory. ID numbers cannot be built
that way (birth date and county code carry meaning), so they are drawn freely and
checked: within a chunk against the chunk's own, and across chunks, as they are
written, against a Bloom filter that costs the same memory at any scale
(:class:`IdRegistry`). Which phone or account a person gets depends only on the order
of draws, so a seed always yields the same portfolio.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from math import gcd
from typing import Generic, TypeVar

from synthetic.reference import (
    BANK_BINS,
    BUSINESS_OCTETS,
    CARRIER_NAT_PREFIXES,
    CITIES,
    COMPOUNDS,
    GIVEN_FEMALE,
    GIVEN_MALE,
    IPV6_PREFIXES,
    MOBILE_PREFIXES,
    RESIDENTIAL_OCTETS,
    STREETS,
    SURNAMES,
    VIRTUAL_PREFIXES,
    City,
    County,
    VehicleModel,
)

# Characters allowed in a VIN (ISO 3779 leaves out I, O and Q).
VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
# ISO 3779 transliteration of letters to digits for the check character.
_VIN_DIGITS = str.maketrans("ABCDEFGHJKLMNPRSTUVWXYZ", "12345678123457923456789")
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# Model-year letter (VIN position 10) cycles every 30 years; 2010 is "A".
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"
_LUHN_DOUBLED = {str(d): (2 * d if d < 5 else 2 * d - 9) for d in range(10)}


T = TypeVar("T")


class WeightedChoice(Generic[T]):
    """Draws items by relative weight with one ``random()`` call and a bisect."""

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        self.items = tuple(items)
        self._cumulative = list(itertools.accumulate(weights))
        self._total = self._cumulative[-1]

    def __call__(self, rng: random.Random) -> T:
        return self.items[bisect.bisect_right(self._cumulative, rng.random() * self._total)]


class AffinePermutation:
    """A bijection of ``range(modulus)``: distinct inputs give distinct outputs.

    Multiplying by a unit modulo ``modulus`` and adding an offset scatters consecutive
    counters across the whole range; the seeded multiplier and offset make each seed's
    numbering different.
    """

    def __init__(self, modulus: int, rng: random.Random) -> None:
        self.modulus = modulus
        while True:
            multiplier = rng.randrange(modulus // 3, modulus)
            if gcd(multiplier, modulus) == 1:
                break
        self.multiplier = multiplier
        self.offset = rng.randrange(modulus)

    def __call__(self, k: int) -> int:
        return (self.multiplier * k + self.offset) % self.modulus


class SeenFilter:
    """A Bloom filter over integers: ``add`` says whether a value may have been seen.

    A false "seen" only costs the caller one more draw; a value actually seen is never
    reported new. Hashing is integer arithmetic, never ``hash()`` of a string, whose
    per-process salt would break determinism.
    """

    def __init__(self, bits: int = 27) -> None:
        # 2**27 bits (16 MiB) keep false positives rare up to tens of millions of values.
        self._size = bits
        self._bits = bytearray(1 << (bits - 3))

    def add(self, value: int) -> bool:
        """Record ``value``; return True if it was (probably) recorded before."""
        h = (value * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & 0xFFFFFFFFFFFFFFFF
        h2 = ((h >> 32) * 0xC2B2AE3D27D4EB4F) & 0xFFFFFFFFFFFFFFFF | 1
        mask = (1 << self._size) - 1
        bits = self._bits
        seen = True
        for i in range(4):
            index = (h + i * h2) & mask
            byte, bit = index >> 3, 1 << (index & 7)
            if not bits[byte] & bit:
                seen = False
                bits[byte] |= bit
        return seen


def id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits of a PRC ID number."""
    # Reading the digits in base 13 folds the weights 2**(17-i) mod 11 into one int().
    checksum = (1 - 2 * int(first17, 13)) % 11
    return "X" if checksum == 10 else str(checksum)


def luhn_digit(body: str) -> str:
    """Luhn check digit that makes ``body + digit`` a valid card number."""
    total = sum(_LUHN_DOUBLED[c] for c in body[::-2]) + sum(map(int, body[-2::-2]))
    return str(-total % 10)


def vin_check_char(vin: str) -> str:
    """ISO 3779 check character (position 9) for a 17-character VIN."""
    total = sum(map(operator.mul, map(int, vin.translate(_VIN_DIGITS)), _VIN_WEIGHTS))
    return "X" if total % 11 == 10 else str(total % 11)


def _ipv4(first_octets: tuple[int, ...], k: int) -> str:
    """The ``k``-th address of ``first_octets``' ranges, never ending in .0 or .255."""
    rest = k // len(first_octets)
    mid = rest // 254
    return f"{first_octets[k % len(first_octets)]}.{mid >> 8}.{mid & 255}.{rest % 254 + 1}"


def format_phone(digits: str, rng: random.Random) -> str:
    """Type an 11-digit mobile the way applicants do: one of the four contract formats."""
    r = rng.random()
    if r < 0.62:
        return digits
    if r < 0.77:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if r < 0.89:
        return f"+86 {digits[:3]}-{digits[3:7]}-{digits[7:]}"
    return "86" + digits


def format_account(digits: str, rng: random.Random) -> str:
    """Bank accounts are mostly typed solid; some people copy the card's 4-digit groups."""
    if rng.random() < 0.12:
        return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))
    return digits


def typed_id_number(id_number: str, rng: random.Random) -> str:
    """An ID ending in X is often typed with a lower-case x."""
    if id_number[-1] == "X" and rng.random() < 0.35:
        return id_number[:-1] + "x"
    return id_number


@dataclass(frozen=True, slots=True)
class Person:
    """One real or fabricated individual as an application states them."""

    id_number: str
    name: str
    male: bool
    birth: date
    phone: str
    city: City
    address: str


class IdentitySpace:
    """The numbering shared by every chunk of a portfolio: permutations and gateways.

    Built once from the portfolio seed. Each chunk draws its counters from its own
    partition (``partition * STRIDE`` onwards), so chunks generated independently, in
    any order or process, still never hand out the same phone, account, VIN or IP.
    """

    #: Counter values reserved per partition (a chunk draws far fewer per kind).
    STRIDE = 50_000

    def __init__(self, rng: random.Random) -> None:
        # Each permutation spans the whole space (prefix and suffix together), so that
        # consecutive draws differ everywhere, not only in their prefix.
        self.perms = {
            "phone": AffinePermutation(len(MOBILE_PREFIXES) * 10**8, rng),
            "virtual": AffinePermutation(len(VIRTUAL_PREFIXES) * 10**8, rng),
            "bank": AffinePermutation(len(BANK_BINS) * 10**9, rng),
            "vin": AffinePermutation(33**3 * 10**6, rng),
            # IPv4 addresses avoid .0 and .255 in the last octet.
            "ip": AffinePermutation(len(RESIDENTIAL_OCTETS) * 65536 * 254, rng),
            "bizip": AffinePermutation(len(BUSINESS_OCTETS) * 65536 * 254, rng),
        }
        self.carrier_nat_ips: tuple[str, ...] = tuple(
            f"{prefix}{rng.randrange(1, 255)}.{rng.randrange(1, 255)}"
            for prefix in CARRIER_NAT_PREFIXES
            for _ in range(2)
        )
        # A few gateways carry most mobile traffic: weights fall off geometrically.
        self.carrier_nat = WeightedChoice(
            self.carrier_nat_ips, [0.8**i for i in range(len(self.carrier_nat_ips))]
        )

    @property
    def partitions(self) -> int:
        """How many partitions the smallest space holds."""
        return min(p.modulus for p in self.perms.values()) // self.STRIDE


class IdentityFactory:
    """Draws people and identifiers for one partition (a chunk, or the dealer set-up).

    Unique identifiers never repeat across partitions; ID numbers never repeat within
    one (:class:`IdRegistry` reconciles them across partitions).
    """

    def __init__(
        self, space: IdentitySpace, rng: random.Random, as_of: date, partition: int
    ) -> None:
        if not 0 <= partition < space.partitions:
            raise ValueError(f"partition {partition} outside 0..{space.partitions - 1}")
        self.space = space
        self.rng = rng
        self.as_of = as_of
        self._surname = WeightedChoice([s for s, _ in SURNAMES], [w for _, w in SURNAMES])
        self._city = WeightedChoice(CITIES, [c.weight for c in CITIES])
        self._seen_ids: set[int] = set()  # a partition holds a few thousand people
        self._next = dict.fromkeys(space.perms, partition * space.STRIDE)
        self._limit = (partition + 1) * space.STRIDE
        self._counties_by_year: dict[tuple[str, int], tuple[County, ...]] = {}

    def _draw(self, kind: str) -> int:
        """The next number of ``kind`` in this partition, scattered by its permutation."""
        k = self._next[kind]
        if k >= self._limit:
            raise OverflowError(f"partition exhausted for {kind}")
        self._next[kind] = k + 1
        return self.space.perms[kind](k)

    def carrier_nat(self) -> str:
        """One of the few carrier-NAT gateway addresses shared by all mobile users."""
        return self.space.carrier_nat(self.rng)

    # --- people -----------------------------------------------------------------

    def city(self) -> City:
        return self._city(self.rng)

    def birth_date(self, ages: tuple[int, int] = (22, 65)) -> date:
        """Birth date for an adult aged within ``ages`` at the export date.

        Ages cluster in the thirties (a triangular law peaking at 30% of the range);
        22 at export means at least 20 when applying within the two-year window.
        """
        low, high = ages
        age = self.rng.triangular(low, high, low + 0.3 * (high - low))
        return self.as_of - timedelta(days=int(age * 365.25))

    def name(self, male: bool, surname: str | None = None) -> str:
        rng = self.rng
        chars = GIVEN_MALE if male else GIVEN_FEMALE
        given = rng.choice(chars) if rng.random() < 0.3 else rng.choice(chars) + rng.choice(chars)
        return (surname or self._surname(rng)) + given

    def surname(self) -> str:
        return self._surname(self.rng)

    def id_number(self, birth: date, male: bool, home: City) -> str:
        """A fresh, valid 18-character ID number, never drawn before in this partition."""
        rng = self.rng
        counties = self._counties(home, birth.year)
        births = birth.strftime("%Y%m%d")
        while True:
            county = rng.choice(counties)
            # The 17th digit is odd for men, even for women.
            seq = rng.randrange(500) * 2 + (1 if male else 0)
            first17 = f"{county.code}{births}{seq:03d}"
            if int(first17) not in self._seen_ids:
                self._seen_ids.add(int(first17))
                return first17 + id_check_char(first17)

    def _counties(self, home: City, year: int) -> tuple[County, ...]:
        """Counties an ID born in ``year`` can carry, for someone living in ``home``.

        Most people hold an ID from where they live; the rest are migrants whose ID
        comes from anywhere. Either way, only counties that existed in the birth year.
        """
        migrant = self.rng.random() < 0.3
        key = ("" if migrant else home.name, year)
        counties = self._counties_by_year.get(key)
        if counties is None:
            pool = [c for city in CITIES for c in city.counties] if migrant else list(home.counties)
            counties = tuple(c for c in pool if c.valid_from <= year)
            if not counties:  # every local county is younger than this person
                counties = tuple(
                    c for city in CITIES for c in city.counties if c.valid_from <= year
                )
            self._counties_by_year[key] = counties
        return counties

    def person(
        self,
        city: City,
        *,
        male: bool | None = None,
        surname: str | None = None,
        ages: tuple[int, int] = (22, 65),
        virtual_phone: bool = False,
    ) -> Person:
        """A new individual living in ``city`` with a fresh ID, phone and address."""
        rng = self.rng
        male = rng.random() < 0.62 if male is None else male  # car buyers skew male
        birth = self.birth_date(ages)
        return Person(
            id_number=self.id_number(birth, male, city),
            name=self.name(male, surname),
            male=male,
            birth=birth,
            phone=self.phone(virtual_phone),
            city=city,
            address=self.address(city),
        )

    # --- unique identifiers -----------------------------------------------------------

    def phone(self, virtual: bool = False) -> str:
        """A fresh 11-digit mobile number; ``virtual`` draws from MVNO ranges."""
        prefixes = VIRTUAL_PREFIXES if virtual else MOBILE_PREFIXES
        k = self._draw("virtual" if virtual else "phone")
        return f"{prefixes[k % len(prefixes)]}{k // len(prefixes):08d}"

    def bank_account(self) -> str:
        """A fresh debit-card number (16-19 digits, valid Luhn digit), unformatted."""
        k = self._draw("bank")
        bin_, length = BANK_BINS[k % len(BANK_BINS)]
        # The last nine body digits make it unique within its BIN; longer cards get
        # random leading digits.
        filler = length - 16
        lead = f"{self.rng.randrange(10**filler):0{filler}d}" if filler else ""
        body = f"{bin_}{lead}{k // len(BANK_BINS):09d}"
        return body + luhn_digit(body)

    def vin(self, model: VehicleModel, model_year: int) -> str:
        """A fresh VIN for ``model``: its WMI, a valid check digit and a unique serial."""
        rng = self.rng
        k = self._draw("vin")
        serial, rest = k % 10**6, k // 10**6
        a, b, plant = (
            VIN_ALPHABET[rest % 33],
            VIN_ALPHABET[rest // 33 % 33],
            VIN_ALPHABET[rest // 1089],
        )
        vds = a + b + rng.choice(VIN_ALPHABET) + rng.choice(VIN_ALPHABET) + rng.choice(VIN_ALPHABET)
        year_code = _YEAR_CODES[(model_year - 2010) % 30]
        draft = f"{model.wmi}{vds}0{year_code}{plant}{serial:06d}"
        return draft[:8] + vin_check_char(draft) + draft[9:]

    def device(self) -> str:
        """A device fingerprint: 64 random bits, so collisions are negligible."""
        return f"{self.rng.getrandbits(64):016x}"

    def residential_ip(self) -> str:
        """A fresh home-broadband IPv4 address."""
        return _ipv4(RESIDENTIAL_OCTETS, self._draw("ip"))

    def business_ip(self) -> str:
        """A fresh fixed business-line IPv4 address (a dealer's showroom Wi-Fi)."""
        return _ipv4(BUSINESS_OCTETS, self._draw("bizip"))

    def ipv6(self) -> str:
        """A mobile IPv6 address with a random interface part."""
        rng = self.rng
        bits = rng.getrandbits(104)
        groups = [(bits >> (16 * i)) & 0xFFFF for i in range(6)]
        return f"{rng.choice(IPV6_PREFIXES)}{bits >> 96:02x}:" + ":".join(f"{g:x}" for g in groups)

    # --- free text ------------------------------------------------------------------

    def address(self, city: City) -> str:
        """A home address in ``city``, with the usual variation in how it is written."""
        rng = self.rng
        district = rng.choice(city.counties).name
        street = f"{rng.choice(STREETS)}{rng.randrange(1, 400)}号"
        building, unit = rng.randrange(1, 30), rng.randrange(1, 6)
        room = rng.randrange(1, 33) * 100 + rng.randrange(1, 5)
        flat = f"{rng.choice(COMPOUNDS)}{building}栋{unit}单元{room}室"
        return self.place(city, district, street + flat)

    def place(self, city: City, district: str, rest: str) -> str:
        """Join province, city, district and the rest as people write them."""
        rng = self.rng
        municipality = city.province.startswith(city.name)
        head = city.province if municipality else f"{city.province}{city.name}市"
        if not municipality and rng.random() < 0.25:
            head = f"{city.name}市"  # the province is often left out
        if rng.random() < 0.08:
            return f"{head} {district} {rest}"
        return f"{head}{district}{rest}"

    def site_address(self, city: City) -> str:
        """The address of a company site (depot, factory, office park)."""
        rng = self.rng
        district = rng.choice(city.counties).name
        return self.place(city, district, f"{rng.choice(STREETS)}{rng.randrange(1, 900)}号")

    def landline(self, city: City) -> str:
        """A fixed-line number in ``city``, as ``021-65116166`` or without the dash."""
        rng = self.rng
        # Local numbers start with 2-8; 80... is not a fixed line in Beijing or Shanghai.
        first = rng.randrange(2, 9)
        second = rng.randrange(1 if first == 8 else 0, 10)
        rest = city.landline_digits - 2
        local = f"{first}{second}{rng.randrange(10**rest):0{rest}d}"
        return (
            f"{city.landline_prefix}-{local}"
            if rng.random() < 0.85
            else city.landline_prefix + local
        )


class IdRegistry:
    """Keeps ID numbers unique across partitions generated independently.

    Partitions are claimed in order. An ID a partition drew that an earlier one holds
    belongs to a different person (a person never spans partitions), so it gets a new
    sequence number with the same county, birth date and sex. The filter is sized for
    tens of millions of IDs; memory does not grow with the portfolio.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._seen = SeenFilter()

    def claim(self, id_numbers: Iterable[str]) -> dict[str, str]:
        """Register a partition's distinct (upper-case) IDs; return replacements for taken ones."""
        replacements: dict[str, str] = {}
        for id_number in id_numbers:
            if self._seen.add(int(id_number[:17])):
                replacements[id_number] = self._fresh(id_number)
        return replacements

    def _fresh(self, id_number: str) -> str:
        sex = int(id_number[16]) % 2
        while True:
            first17 = f"{id_number[:14]}{self.rng.randrange(500) * 2 + sex:03d}"
            if not self._seen.add(int(first17)):
                return first17 + id_check_char(first17)
