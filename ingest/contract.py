"""The input contract (version 1), declared once.

Every table of ``shared/data-contract.md`` is described here: its columns, which are
required and how each is typed. The readers, the validators, the generator and the
tests all read these declarations instead of repeating column names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ColumnType(StrEnum):
    STRING = "string"
    DATE = "date"
    DATETIME = "datetime"
    DECIMAL = "decimal"
    INTEGER = "integer"
    ENUM = "enum"


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    name: str
    required: bool
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


PRODUCTS: tuple[str, ...] = ("new_car", "used_car", "commercial_vehicle", "lease", "refinance")
LABELS: tuple[str, ...] = ("fraud", "legit")

S, D, DT, DEC, INT, ENUM = (
    ColumnType.STRING,
    ColumnType.DATE,
    ColumnType.DATETIME,
    ColumnType.DECIMAL,
    ColumnType.INTEGER,
    ColumnType.ENUM,
)

DEALERS = Table(
    "dealers",
    required=True,
    columns=(
        Column("dealer_id", S, True),
        Column("name", S, True),
        Column("city", S, False),
        Column("unified_social_credit_code", S, False),
        Column("onboarded_on", D, False),
    ),
)

APPLICATIONS = Table(
    "applications",
    required=True,
    columns=(
        Column("application_id", S, True),
        Column("submitted_at", DT, True),
        Column("dealer_id", S, True),
        Column("sales_agent_id", S, False),
        Column("product", ENUM, True, PRODUCTS),
        Column("applicant_id_number", S, True),
        Column("applicant_name", S, True),
        Column("applicant_phone", S, True),
        Column("device_id", S, False),
        Column("ip_address", S, False),
        Column("employer_name", S, False),
        Column("employer_phone", S, False),
        Column("home_address", S, False),
        Column("contact_name", S, False),
        Column("contact_phone", S, False),
        Column("bank_account", S, False),
        Column("vehicle_vin", S, False),
        Column("vehicle_model", S, False),
        Column("vehicle_price", DEC, False),
        Column("loan_amount", DEC, True),
        Column("down_payment", DEC, False),
        Column("term_months", INT, True),
        Column("monthly_income", DEC, False),
    ),
)

REPAYMENTS = Table(
    "repayments",
    required=False,
    columns=(
        Column("application_id", S, True),
        Column("installment_no", INT, True),
        Column("due_date", D, True),
        Column("amount_due", DEC, True),
        Column("paid_date", D, False),
        Column("amount_paid", DEC, False),
    ),
)

LABEL_TABLE = Table(
    "labels",
    required=False,
    columns=(
        Column("application_id", S, True),
        Column("label", ENUM, True, LABELS),
        Column("source", S, False),
        Column("labeled_at", DT, False),
    ),
)

#: Tables in load order: dealers before the applications that name them, applications
#: before the repayments and labels that must name a loaded application.
TABLES: tuple[Table, ...] = (DEALERS, APPLICATIONS, REPAYMENTS, LABEL_TABLE)
TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}

#: File formats, chosen by extension.
FORMATS: tuple[str, ...] = (".csv", ".parquet", ".jsonl")

#: Timezone of a datetime given without an offset.
SOURCE_TIMEZONE = "Asia/Shanghai"
