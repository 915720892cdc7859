"""Validated, normalised and pseudonymised rows, ready to be written to the graph.

``to_*`` functions turn one raw row into a record or raise ``RowError`` (the row goes to
quarantine). An optional field that is present but invalid is dropped from the record and
named in ``warnings``; the row still loads.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from graph import normalise
from graph.normalise import InvalidValue
from graph.privacy import Pseudonymiser, mask_name
from graph.schema import LINKS, Link
from ingest.contract import LABELS, PRODUCTS
from ingest.errors import RowError
from ingest.readers import RawRow


@dataclass
class IdentifierRef:
    """One application's link to a shared identifier node."""

    link: Link
    key: str
    props: dict[str, Any]


@dataclass
class Record:
    """A validated row: the node key, its properties, and its links."""

    key: str
    props: dict[str, Any]
    fingerprint: str
    identifiers: list[IdentifierRef] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _required(raw: RawRow, column: str) -> str:
    value = raw.get(column)
    if value is None:
        raise RowError(column, "required value is missing")
    return value


def _field(raw: RawRow, column: str, parse: Callable[[str], Any]) -> Any:
    try:
        return parse(_required(raw, column))
    except InvalidValue as exc:
        raise RowError(column, str(exc)) from None


def _optional(raw: RawRow, column: str, parse: Callable[[str], Any],
              warnings: list[str]) -> Any:
    value = raw.get(column)
    if value is None:
        return None
    try:
        return parse(value)
    except InvalidValue:
        warnings.append(column)
        return None


def _fingerprint(pseudo: Pseudonymiser, kind: str, payload: dict[str, Any]) -> str:
    # Keyed, so the fingerprint of a row with personal data reveals nothing about it.
    return pseudo.token(kind, json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False))


def _reject_row_error(raw: RawRow) -> None:
    if "__error__" in raw:
        raise RowError(None, str(raw["__error__"]))


def to_dealer(raw: RawRow, pseudo: Pseudonymiser) -> Record:
    from stdnum.cn import uscc
    from stdnum.exceptions import ValidationError

    _reject_row_error(raw)
    warnings: list[str] = []
    dealer_id = _field(raw, "dealer_id", normalise.plain_id)
    name = _field(raw, "name", normalise.clean_text)

    def credit_code(value: str) -> str:
        try:
            return str(uscc.validate(value))
        except ValidationError as exc:
            raise InvalidValue(
                f"{value!r} is not a valid unified social credit code: {exc}") from None

    props = {
        "name": name,
        "city": _optional(raw, "city", normalise.clean_text, warnings),
        "uscc": _optional(raw, "unified_social_credit_code", credit_code, warnings),
        "onboarded_on": _optional(raw, "onboarded_on", normalise.iso_date, warnings),
        "placeholder": False,
    }
    return Record(dealer_id, props, _fingerprint(pseudo, "dealer", props), warnings=warnings)


def _identifier(link: Link, value: str, pseudo: Pseudonymiser) -> IdentifierRef:
    kind = link.kind
    if kind.personal:
        assert kind.masker is not None
        protected = pseudo.protect(kind.name, value, kind.masker(value))
        props: dict[str, Any] = {"masked": protected.masked, "enc": protected.encrypted}
        if kind.name == "phone":
            props["is_mobile"] = normalise.is_mobile(value)
        if kind.name == "id_number":
            born = normalise.birth_date_of(value)
            props["birth_year"] = born.year
            # The 17th digit is odd for men and even for women (GB 11643).
            props["gender"] = "M" if int(value[16]) % 2 else "F"
        return IdentifierRef(link, protected.token, props)
    return IdentifierRef(link, value, {"value": value})


def to_application(raw: RawRow, pseudo: Pseudonymiser, today: date) -> Record:
    """Validate one application row; ``today`` bounds birth dates."""
    _reject_row_error(raw)
    warnings: list[str] = []
    application_id = _field(raw, "application_id", normalise.plain_id)
    submitted_at = _field(raw, "submitted_at", normalise.iso_datetime)
    product = _field(raw, "product", normalise.clean_text)
    if product not in PRODUCTS:
        raise RowError("product", f"{product!r} is not one of {', '.join(PRODUCTS)}")
    name = _field(raw, "applicant_name", normalise.clean_text)
    loan_amount = _field(raw, "loan_amount",
                         lambda v: normalise.decimal_amount(v, minimum=Decimal(0), exclusive=True))
    term = _field(raw, "term_months", lambda v: normalise.integer(v, low=6, high=60))

    identifiers: list[IdentifierRef] = []
    clear: dict[str, str] = {}
    for link in LINKS:
        parse = link.kind.normaliser
        if link.kind.name == "id_number":
            def parse(v: str) -> str:
                return normalise.id_number(v, today)
        value = _field(raw, link.column, parse) if link.required else _optional(
            raw, link.column, parse, warnings)
        if value is not None:
            identifiers.append(_identifier(link, value, pseudo))
            clear[link.column] = value

    def money(column: str) -> float | None:
        return _optional(raw, column, lambda v: normalise.decimal_amount(v, minimum=Decimal(0)),
                         warnings)

    contact_name = _optional(raw, "contact_name", normalise.clean_text, warnings)
    employer_display = _optional(raw, "employer_name", normalise.clean_text, warnings)
    props: dict[str, Any] = {
        "submitted_at": submitted_at,
        "dealer_id": _field(raw, "dealer_id", normalise.plain_id),
        "sales_agent_id": _optional(raw, "sales_agent_id", normalise.plain_id, warnings),
        "product": product,
        "applicant_name_masked": mask_name(name),
        "applicant_name_enc": pseudo.encrypt(name),
        "applicant_name_token": pseudo.token("name", name),
        "contact_name_masked": mask_name(contact_name) if contact_name else None,
        "contact_name_enc": pseudo.encrypt(contact_name) if contact_name else None,
        "employer_name": employer_display,
        "vehicle_model": _optional(raw, "vehicle_model", normalise.clean_text, warnings),
        "vehicle_price": money("vehicle_price"),
        "loan_amount": loan_amount,
        "down_payment": money("down_payment"),
        "term_months": term,
        "monthly_income": money("monthly_income"),
    }
    payload = {k: v for k, v in props.items() if not k.endswith("_enc")}
    payload.update(clear)
    payload["applicant_name"] = name
    payload["contact_name"] = contact_name
    return Record(application_id, props, _fingerprint(pseudo, "application", payload),
                  identifiers, warnings)


def to_installment(raw: RawRow, pseudo: Pseudonymiser) -> Record:
    _reject_row_error(raw)
    warnings: list[str] = []
    application_id = _field(raw, "application_id", normalise.plain_id)
    number = _field(raw, "installment_no", lambda v: normalise.integer(v, low=1))
    amount = Decimal(0)
    props: dict[str, Any] = {
        "application_id": application_id,
        "installment_no": number,
        "due_date": _field(raw, "due_date", normalise.iso_date),
        "amount_due": _field(raw, "amount_due",
                             lambda v: normalise.decimal_amount(v, minimum=amount)),
        "paid_date": _optional(raw, "paid_date", normalise.iso_date, warnings),
        "amount_paid": _optional(raw, "amount_paid",
                                 lambda v: normalise.decimal_amount(v, minimum=amount), warnings),
    }
    key = f"{application_id}#{number}"
    return Record(key, props, _fingerprint(pseudo, "installment", props), warnings=warnings)


def to_label(raw: RawRow, pseudo: Pseudonymiser) -> Record:
    _reject_row_error(raw)
    warnings: list[str] = []
    application_id = _field(raw, "application_id", normalise.plain_id)
    label = _field(raw, "label", normalise.clean_text).lower()
    if label not in LABELS:
        raise RowError("label", f"{label!r} is not one of {', '.join(LABELS)}")
    props: dict[str, Any] = {
        "label": label,
        "label_source": _optional(raw, "source", normalise.clean_text, warnings),
        "labeled_at": _optional(raw, "labeled_at", normalise.iso_datetime, warnings),
    }
    return Record(application_id, props, _fingerprint(pseudo, "label", props), warnings=warnings)
