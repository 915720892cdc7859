"""Normalisers: examples from the contract and properties over generated values."""

from __future__ import annotations

from datetime import UTC, date, timedelta

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.iso7064 import mod_11_2

from graph import normalise
from graph.normalise import InvalidValue

mobile_national = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


def _with_check_digit(body: str) -> str:
    return body + mod_11_2.calc_check_digit(body)


birth_dates = st.dates(min_value=date(1930, 1, 1), max_value=date(2005, 12, 31))
area_codes = st.from_regex(r"[1-6][0-9]{5}", fullmatch=True)
sequence = st.from_regex(r"[0-9]{3}", fullmatch=True)


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    body = draw(area_codes) + draw(birth_dates).strftime("%Y%m%d") + draw(sequence)
    return _with_check_digit(body)


@pytest.mark.parametrize("raw", ["13812345678", "138 1234 5678", "+86 138-1234-5678",
                                 "8613812345678", "0086 13812345678", "１３８１２３４５６７８"])
def test_every_contract_phone_format_gives_e164(raw: str) -> None:
    assert normalise.mobile_phone(raw) == "+8613812345678"


@given(mobile_national, st.sampled_from(["{n}", "{a} {b} {c}", "+86 {a}-{b}-{c}", "86{n}"]))
def test_mobile_formats_agree_with_phonenumbers(national: str, template: str) -> None:
    raw = template.format(n=national, a=national[:3], b=national[3:7], c=national[7:])
    e164 = normalise.mobile_phone(raw)
    assert e164 == "+86" + national
    parsed = phonenumbers.parse(e164, None)
    assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == e164
    assert normalise.mobile_phone(e164) == e164  # idempotent


@pytest.mark.parametrize("raw", ["1381234567", "23812345678", "12812345678", "+1 415 555 0100",
                                 "phone", "138123456789"])
def test_non_mobiles_are_rejected_with_the_value_in_the_message(raw: str) -> None:
    with pytest.raises(InvalidValue) as info:
        normalise.mobile_phone(raw)
    assert repr(raw) in str(info.value)


@pytest.mark.parametrize(("raw", "e164"), [("021-65116166", "+862165116166"),
                                           ("0571-50210076", "+8657150210076"),
                                           ("13812345678", "+8613812345678")])
def test_employer_phone_takes_landlines_and_mobiles(raw: str, e164: str) -> None:
    assert normalise.any_phone(raw) == e164
    assert normalise.is_mobile(e164) == raw.startswith("1")


@given(id_numbers())
def test_valid_id_numbers_are_accepted_and_upper_cased(value: str) -> None:
    assert normalise.id_number(value.lower()) == value.upper()


@given(id_numbers(), st.integers(min_value=0, max_value=16), st.integers(1, 9))
def test_a_changed_digit_breaks_the_checksum(value: str, position: int, delta: int) -> None:
    digit = (int(value[position]) + delta) % 10
    corrupted = value[:position] + str(digit) + value[position + 1:]
    # Changing a birth-date digit may also make the date impossible: either way, rejected.
    with pytest.raises(InvalidValue):
        normalise.id_number(corrupted)


def test_id_number_with_x_check_digit_in_either_case() -> None:
    assert normalise.id_number("31010119860106049x") == "31010119860106049X"


def test_id_number_birth_date_must_be_real_and_past() -> None:
    future = (date.today() + timedelta(days=400)).strftime("%Y%m%d")
    with pytest.raises(InvalidValue, match="future"):
        normalise.id_number(_with_check_digit("110105" + future + "123"))
    with pytest.raises(InvalidValue, match="birth date"):
        normalise.id_number(_with_check_digit("110105" + "19900230" + "123"))


def test_area_code_is_not_checked_against_a_list() -> None:
    assert normalise.id_number(_with_check_digit("999999" + "19900101" + "123"))


@pytest.mark.parametrize("variant", ["京东集团", "京东集团有限公司", "京东集团 有限责任公司",
                                     "京东集团股份有限公司", " 京东集团有限公司 ",
                                     "京东集团有 限 公 司"])
def test_employer_variants_fold_to_one_key(variant: str) -> None:
    assert normalise.employer_name(variant) == "京东集团"


def test_full_width_employer_name_folds_to_half_width() -> None:
    assert normalise.employer_name("ＡＢＣ科技有限公司") == normalise.employer_name("ABC科技")


@given(st.text(min_size=1, max_size=30).filter(lambda s: s.strip()))
def test_employer_folding_is_idempotent(raw: str) -> None:
    try:
        once = normalise.employer_name(raw)
    except InvalidValue:
        return
    assert normalise.employer_name(once) == once


@given(st.ip_addresses())
def test_ip_addresses_are_canonical_and_idempotent(address: object) -> None:
    text = str(address)
    assert normalise.ip_address(text) == text
    assert normalise.ip_address(text.upper()) == text


@pytest.mark.parametrize("raw", ["256.1.1.1", "1.2.3", "::g", "localhost", ""])
def test_bad_ip_addresses_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidValue):
        normalise.ip_address(raw)


@given(st.from_regex(r"[A-HJ-NPR-Z0-9]{17}", fullmatch=True))
def test_vins_without_i_o_q_pass_upper_cased(value: str) -> None:
    assert normalise.vin(value.lower()) == value


@pytest.mark.parametrize("raw", ["LZBK27KJLYUTRAK8", "LZBK27KJLYUTRAK8TX", "LZBK27KJLYUTRAKOT"])
def test_bad_vins_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidValue):
        normalise.vin(raw)


def test_bank_account_spaces_removed() -> None:
    assert normalise.bank_account("6222 4659 3674 1903 160") == "6222465936741903160"
    with pytest.raises(InvalidValue):
        normalise.bank_account("6222-ABCD")


def test_datetime_without_offset_is_shanghai_time() -> None:
    value = normalise.iso_datetime("2026-06-05T20:59:12")
    assert value.utcoffset() == timedelta(hours=8)
    explicit = normalise.iso_datetime("2026-06-05T12:59:12+00:00")
    assert explicit.tzinfo == UTC
    assert value == explicit


@pytest.mark.parametrize("raw", ["-5", "0"])
def test_amounts_must_be_positive_when_asked(raw: str) -> None:
    from decimal import Decimal

    with pytest.raises(InvalidValue):
        normalise.decimal_amount(raw, minimum=Decimal(0), exclusive=True)


def test_integer_rejects_fractions_and_ranges() -> None:
    assert normalise.integer("36", low=6, high=60) == 36
    for raw in ["36.5", "61", "5", "abc"]:
        with pytest.raises(InvalidValue):
            normalise.integer(raw, low=6, high=60)


@given(st.text(alphabet="0123456789+- ()１３８", min_size=1, max_size=20))
def test_the_fast_mobile_path_agrees_with_phonenumbers(raw: str) -> None:
    """Whatever the shortcut accepts, a full phonenumbers parse gives the same number."""
    try:
        fast = normalise.mobile_phone(raw)
    except InvalidValue:
        return
    try:
        parsed = phonenumbers.parse(normalise._e164_digits(raw), "CN")
    except phonenumbers.NumberParseException:
        pytest.fail(f"{raw!r} accepted as {fast} but phonenumbers cannot parse it")
    assert "+86" + str(parsed.national_number) == fast


@given(st.text(min_size=1, max_size=30).filter(lambda s: s.strip()))
def test_address_folding_is_idempotent(raw: str) -> None:
    try:
        once = normalise.address(raw)
    except InvalidValue:
        return
    assert normalise.address(once) == once
