"""Normalisers for every identifier kind of the contract.

Each function takes the raw value as exported and returns its canonical form, or raises
``InvalidValue`` saying what was received and what is allowed. They are pure, so ingest,
the API's look-ups and the origination path normalise a value the same way.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

import phonenumbers
from stdnum.iso7064 import mod_11_2


class InvalidValue(ValueError):
    """A value that does not satisfy the contract; the message says what was expected."""


# Asia/Shanghai as a fixed +08:00 offset (no daylight saving since 1991). A ZoneInfo zone
# crashes the Neo4j driver's temporal packing on worker threads (segfault seen with 6.4.1).
_SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
_MOBILE_NATIONAL = re.compile(r"1[3-9]\d{9}")
# The four contract spellings of a mainland mobile, recognised without a full parse:
# phonenumbers.parse costs ~50 us and ingest meets three phones per row.
_PLAIN_MOBILE = re.compile(r"(?:\+?86|0086)?(1[3-9][0-9]{9})")
_PHONE_CHARS = re.compile(r"[\s\-().]")
_VIN = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
_ACCOUNT = re.compile(r"\d{8,30}")
_SPACES = re.compile(r"\s+")
# Company-form suffixes that applicants type interchangeably for one employer.
_COMPANY_SUFFIXES = ("有限责任公司", "股份有限公司", "有限公司", "集团公司", "公司")


def clean_text(raw: str) -> str:
    """NFKC-fold (full-width to half-width) and collapse white space."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", raw)).strip()


def _fold(raw: str) -> str:
    """Caseless matching form: NFKC, case-folded, white space removed, repeated to a fixed
    point, because folding and removing spaces can each make a new composable sequence
    (``A´`` -> ``a`` + combining acute)."""
    value = raw
    for _ in range(4):
        folded = _SPACES.sub("", unicodedata.normalize(
            "NFKC", unicodedata.normalize("NFKC", value).casefold()))
        if folded == value:
            break
        value = folded
    return value


def _e164_digits(raw: str) -> str:
    compact = _PHONE_CHARS.sub("", unicodedata.normalize("NFKC", raw))
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    # `8613812345678` is a mainland number written with its country code but no plus.
    if not compact.startswith("+") and len(compact) == 13 and compact.startswith("86"):
        compact = "+" + compact
    return compact


def _parse_cn(raw: str) -> phonenumbers.PhoneNumber:
    try:
        number = phonenumbers.parse(_e164_digits(raw), "CN")
    except phonenumbers.NumberParseException as exc:
        raise InvalidValue(f"{raw!r} is not a phone number ({exc})") from None
    if number.country_code != 86:
        raise InvalidValue(f"{raw!r} is not a mainland China number (+86)")
    return number


def mobile_phone(raw: str) -> str:
    """A mainland mobile number in E.164: ``+8613812345678``.

    Accepts ``13812345678``, ``138 1234 5678``, ``+86 138-1234-5678``, ``8613812345678``.
    Validity is the mainland mobile numbering plan (11 digits, ``1[3-9]``), not the
    allocation tables, which lag behind new prefixes.
    """
    plain = _PLAIN_MOBILE.fullmatch(_PHONE_CHARS.sub("", unicodedata.normalize("NFKC", raw)))
    if plain:
        return "+86" + plain.group(1)
    national = str(_parse_cn(raw).national_number)
    if not _MOBILE_NATIONAL.fullmatch(national):
        raise InvalidValue(f"{raw!r} is not a mainland mobile number (11 digits starting 13-19)")
    return "+86" + national


@functools.lru_cache(maxsize=1 << 16)  # switchboards, NAT IPs and employers recur
def any_phone(raw: str) -> str:
    """A mainland mobile or landline (``021-65116166``) in E.164."""
    plain = _PLAIN_MOBILE.fullmatch(_PHONE_CHARS.sub("", unicodedata.normalize("NFKC", raw)))
    if plain:
        return "+86" + plain.group(1)
    number = _parse_cn(raw)
    national = str(number.national_number)
    if _MOBILE_NATIONAL.fullmatch(national) or phonenumbers.is_valid_number(number):
        return "+86" + national
    raise InvalidValue(f"{raw!r} is neither a mainland mobile nor a valid landline number")


def is_mobile(e164: str) -> bool:
    """Whether a normalised number is a mobile (an employer 'switchboard' that is a mobile
    is a fraud signal)."""
    return bool(_MOBILE_NATIONAL.fullmatch(e164.removeprefix("+86")))


def id_number(raw: str, today: date | None = None) -> str:
    """An 18-character PRC resident identity number, upper-cased.

    The ISO 7064 MOD 11-2 checksum must hold and characters 7-14 must be a real birth
    date not in the future. The area code is deliberately not checked against a list.
    """
    value = clean_text(raw).replace(" ", "").upper()
    if len(value) != 18 or not value[:17].isdigit() or value[17] not in "0123456789X":
        raise InvalidValue(f"{raw!r} is not 18 characters of 17 digits and a digit or X")
    if not mod_11_2.is_valid(value):
        raise InvalidValue(f"{raw!r} fails the ISO 7064 MOD 11-2 checksum")
    born = birth_date_of(value)
    if born > (today or date.today()):
        raise InvalidValue(f"{raw!r} has a birth date in the future ({born.isoformat()})")
    return value


def birth_date_of(normalised_id: str) -> date:
    """The birth date encoded in characters 7-14 of an identity number."""
    try:
        return date(int(normalised_id[6:10]), int(normalised_id[10:12]), int(normalised_id[12:14]))
    except ValueError:
        raise InvalidValue(
            f"{normalised_id!r} has no real birth date in characters 7-14"
        ) from None


@functools.lru_cache(maxsize=1 << 16)  # switchboards, NAT IPs and employers recur
def employer_name(raw: str) -> str:
    """A matching key for an employer: width-folded, spaces removed, company suffix dropped.

    ``京东集团有限公司``, ``京东集团 有限责任公司`` and ``京东集团`` fold to one key.
    """
    value = _fold(raw)
    for suffix in _COMPANY_SUFFIXES:
        if value.endswith(suffix) and len(value) > len(suffix):
            value = value[: -len(suffix)]
            break
    if not value:
        raise InvalidValue(f"{raw!r} is an empty employer name")
    return value


@functools.lru_cache(maxsize=1 << 16)  # switchboards, NAT IPs and employers recur
def ip_address(raw: str) -> str:
    """A canonical IPv4 or IPv6 address (IPv6 compressed, lower case)."""
    try:
        return str(ipaddress.ip_address(clean_text(raw)))
    except ValueError:
        raise InvalidValue(f"{raw!r} is not an IPv4 or IPv6 address") from None


def vin(raw: str) -> str:
    """A 17-character vehicle identification number, upper-cased; I, O and Q never occur."""
    value = clean_text(raw).replace(" ", "").upper()
    if not _VIN.fullmatch(value):
        raise InvalidValue(f"{raw!r} is not a VIN (17 letters and digits, without I, O, Q)")
    return value


def bank_account(raw: str) -> str:
    """A bank account number: digits with the spaces removed."""
    value = clean_text(raw).replace(" ", "").replace("-", "")
    if not _ACCOUNT.fullmatch(value):
        raise InvalidValue(f"{raw!r} is not an account number (8-30 digits, spaces allowed)")
    return value


def address(raw: str) -> str:
    """A matching key for a free-text address: width-folded, spaces removed, case-folded."""
    value = _fold(raw)
    if not value:
        raise InvalidValue(f"{raw!r} is an empty address")
    return value


def device_id(raw: str) -> str:
    """A device fingerprint as given, trimmed and lower-cased."""
    value = clean_text(raw).lower()
    if not value:
        raise InvalidValue(f"{raw!r} is an empty device id")
    return value


def plain_id(raw: str) -> str:
    """An identifier assigned by the lender's systems (dealer, agent, application)."""
    value = clean_text(raw)
    if not value:
        raise InvalidValue("empty identifier")
    return value


def decimal_amount(raw: str, *, minimum: Decimal | None = None, exclusive: bool = False) -> float:
    """A CNY amount; ``minimum`` with ``exclusive`` gives ``> minimum``, else ``>=``."""
    try:
        value = Decimal(clean_text(str(raw)))
    except InvalidOperation:
        raise InvalidValue(f"{raw!r} is not a decimal number") from None
    if not value.is_finite():
        raise InvalidValue(f"{raw!r} is not a finite number")
    if minimum is not None and (value <= minimum if exclusive else value < minimum):
        raise InvalidValue(f"{raw!r} must be {'>' if exclusive else '>='} {minimum}")
    return float(value)


def integer(raw: str, *, low: int | None = None, high: int | None = None) -> int:
    """A whole number, optionally within ``[low, high]``."""
    text = clean_text(str(raw))
    try:
        value = int(Decimal(text))
        if Decimal(text) != value:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise InvalidValue(f"{raw!r} is not a whole number") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise InvalidValue(f"{raw!r} must be between {low} and {high}")
    return value


def iso_date(raw: str) -> date:
    """An ISO 8601 calendar date ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(clean_text(str(raw)))
    except ValueError:
        raise InvalidValue(f"{raw!r} is not an ISO 8601 date (YYYY-MM-DD)") from None


def iso_datetime(raw: str) -> datetime:
    """An ISO 8601 datetime; one without an offset is Asia/Shanghai time."""
    try:
        value = datetime.fromisoformat(clean_text(str(raw)))
    except ValueError:
        raise InvalidValue(f"{raw!r} is not an ISO 8601 datetime") from None
    return value if value.tzinfo else value.replace(tzinfo=_SHANGHAI)
