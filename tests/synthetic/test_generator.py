"""The synthetic portfolio generator: contract shape, field validity, patterns, truth.

Most tests read one 5,000-application portfolio generated once per module; the
determinism and format tests generate their own small ones.
"""

from __future__ import annotations

import csv
import ipaddress
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import phonenumbers
import pytest
from stdnum.cn import ric, uscc

from ingest.contract import APPLICATIONS, DEALERS, LABEL_TABLE, PRODUCTS, REPAYMENTS, TABLES
from synthetic import GenerationSummary, generate_portfolio, measure_generation
from synthetic.identities import IdRegistry, vin_check_char
from synthetic.loans import usual_price
from synthetic.patterns import RING_LINKS, STRUCTURES, sparse_links
from synthetic.portfolio import TRUTH_APPLICATION_COLUMNS, TRUTH_GROUP_COLUMNS, _reconcile_ids
from synthetic.reference import VEHICLE_MODELS
from synthetic.rng import Rng

N = 5_000
SEED = 20_260_331
AS_OF = date(2026, 10, 31)
FRAUD_KINDS = {s.kind for s in STRUCTURES if s.is_fraud}
HONEST_KINDS = {s.kind for s in STRUCTURES if not s.is_fraud}
VIN = re.compile(r"^L[A-HJ-NPR-Z0-9]{16}$")
MODELS = {m.name: m for m in VEHICLE_MODELS}
# Identifier columns whose shared values link applications in the graph.
IDENTIFIERS = (
    "applicant_id_number", "applicant_phone", "contact_phone", "employer_phone", "device_id",
    "ip_address", "home_address", "bank_account", "vehicle_vin",
)  # fmt: skip


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as f:
        return next(csv.reader(f))


def phone_digits(value: str) -> str:
    """A mobile typed in any contract format, as its 11 national digits."""
    digits = re.sub(r"\D", "", value)
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


def normalise(column: str, value: str) -> str:
    """The value as the graph would key it: phones to digits, IDs upper, no spaces."""
    if column in ("applicant_phone", "contact_phone"):
        return phone_digits(value)
    return value.replace(" ", "").upper() if value else ""


@dataclass
class Portfolio:
    summary: GenerationSummary
    dealers: list[dict[str, str]]
    applications: dict[str, dict[str, str]]
    repayments: list[dict[str, str]]
    labels: list[dict[str, str]]
    truth: dict[str, dict[str, str]]
    groups: dict[str, dict[str, str]]

    def members(self, kind: str) -> dict[str, list[dict[str, str]]]:
        """Applications of each group of ``kind``, by group id."""
        by_group: dict[str, list[dict[str, str]]] = defaultdict(list)
        for app_id, t in self.truth.items():
            if t["group_kind"] == kind:
                by_group[t["group_id"]].append(self.applications[app_id])
        return by_group

    def fraud_members(self, kind: str) -> dict[str, list[dict[str, str]]]:
        return {
            g: [a for a in apps if self.truth[a["application_id"]]["is_fraud"] == "true"]
            for g, apps in self.members(kind).items()
        }


def load(summary: GenerationSummary) -> Portfolio:
    out = summary.out_dir
    return Portfolio(
        summary=summary,
        dealers=read_csv(out / "dealers.csv"),
        applications={r["application_id"]: r for r in read_csv(out / "applications.csv")},
        repayments=read_csv(out / "repayments.csv"),
        labels=read_csv(out / "labels.csv"),
        truth={r["application_id"]: r for r in read_csv(out / "truth" / "applications.csv")},
        groups={r["group_id"]: r for r in read_csv(out / "truth" / "groups.csv")},
    )


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> Portfolio:
    out = tmp_path_factory.mktemp("portfolio")
    return load(generate_portfolio(out, N, SEED, as_of=AS_OF))


def files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


# --- determinism --------------------------------------------------------------------


def test_same_seed_gives_identical_files_and_another_seed_differs(tmp_path: Path) -> None:
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        generate_portfolio(tmp_path / name, 2_000, seed)
    a, b, c = (files(tmp_path / n) for n in "abc")
    assert len(a) == 6
    assert a == b
    assert a.keys() == c.keys()
    for name in ("applications.csv", "repayments.csv", "dealers.csv", "truth/applications.csv"):
        assert a[name] != c[name], name


@pytest.mark.slow
def test_worker_processes_do_not_change_the_output(tmp_path: Path) -> None:
    generate_portfolio(tmp_path / "one", 11_000, 3, workers=1)
    generate_portfolio(tmp_path / "two", 11_000, 3, workers=2)
    assert files(tmp_path / "one") == files(tmp_path / "two")


def test_rewriting_a_folder_in_another_format_leaves_one_export(tmp_path: Path) -> None:
    generate_portfolio(tmp_path, 200, 1, fmt="jsonl")
    generate_portfolio(tmp_path, 200, 1, fmt="csv")
    tables = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert tables == sorted(f"{t.name}.csv" for t in TABLES)


def test_rejects_unknown_format_and_empty_portfolio(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="xlsx"):
        generate_portfolio(tmp_path, 10, 1, fmt="xlsx")
    with pytest.raises(ValueError, match="at least 1"):
        generate_portfolio(tmp_path, 0, 1)


# --- shape ---------------------------------------------------------------------------


def test_every_file_has_exactly_the_contract_columns(portfolio: Portfolio) -> None:
    out = portfolio.summary.out_dir
    for table in TABLES:
        assert header(out / f"{table.name}.csv") == list(table.column_names), table.name
    assert header(out / "truth" / "applications.csv") == list(TRUTH_APPLICATION_COLUMNS)
    assert header(out / "truth" / "groups.csv") == list(TRUTH_GROUP_COLUMNS)


def test_summary_counts_match_the_files(portfolio: Portfolio) -> None:
    s = portfolio.summary
    assert s.applications == len(portfolio.applications) == N
    assert s.dealers == len(portfolio.dealers)
    assert s.repayments == len(portfolio.repayments)
    assert s.labels == len(portfolio.labels)
    assert s.fraud_applications == sum(t["is_fraud"] == "true" for t in portfolio.truth.values())
    assert set(s.groups) == FRAUD_KINDS | HONEST_KINDS
    assert {k: n for k, n in s.groups.items() if n} == Counter(
        g["group_kind"] for g in portfolio.groups.values()
    )
    assert all(p.exists() for p in s.paths.values())


def test_required_fields_present_and_enums_valid(portfolio: Portfolio) -> None:
    for table, rows in (
        (APPLICATIONS, portfolio.applications.values()),
        (DEALERS, portfolio.dealers),
        (REPAYMENTS, portfolio.repayments),
        (LABEL_TABLE, portfolio.labels),
    ):
        for row in rows:
            missing = [c for c in table.required_columns if not row[c]]
            assert not missing, (table.name, row)
    assert {a["product"] for a in portfolio.applications.values()} == set(PRODUCTS)
    assert {r["label"] for r in portfolio.labels} == {"fraud", "legit"}


# --- field validity --------------------------------------------------------------------


def test_id_numbers_are_valid_and_born_before_applying(portfolio: Portfolio) -> None:
    lower_x = 0
    for app in portfolio.applications.values():
        number = app["applicant_id_number"]
        assert ric.is_valid(number.upper()), number
        lower_x += number.endswith("x")
        submitted = datetime.fromisoformat(app["submitted_at"]).date()
        age = (submitted - ric.get_birth_date(number.upper())).days / 365.25
        assert 19.5 <= age <= 66, (number, age)
    assert lower_x > 0  # both spellings of the check character occur


def test_phones_parse_as_mainland_numbers_in_all_four_formats(portfolio: Portfolio) -> None:
    shapes: Counter[str] = Counter()
    mobile = phonenumbers.PhoneNumberType.MOBILE
    for app in portfolio.applications.values():
        for column in ("applicant_phone", "contact_phone", "employer_phone"):
            value = app[column]
            if not value:
                assert column != "applicant_phone"
                continue
            number = phonenumbers.parse(value, "CN")
            assert phonenumbers.is_valid_number(number), (column, value)
            kind = phonenumbers.number_type(number)
            if column == "employer_phone":
                assert kind in (mobile, phonenumbers.PhoneNumberType.FIXED_LINE), value
            else:
                assert kind == mobile, (column, value)
                shapes[re.sub(r"\d", "9", value)] += 1
    assert set(shapes) == {"99999999999", "999 9999 9999", "+99 999-9999-9999", "9999999999999"}


def test_vins_accounts_ips_and_credit_codes_are_well_formed(portfolio: Portfolio) -> None:
    for app in portfolio.applications.values():
        vin = app["vehicle_vin"]
        assert VIN.match(vin) and vin[8] == vin_check_char(vin), vin
        account = app["bank_account"]
        assert re.fullmatch(r"[\d ]+", account) and 16 <= len(account.replace(" ", "")) <= 19, (
            account
        )
        if app["ip_address"]:
            ipaddress.ip_address(app["ip_address"])
    versions = Counter(
        ipaddress.ip_address(a["ip_address"]).version
        for a in portfolio.applications.values()
        if a["ip_address"]
    )
    assert versions[4] > versions[6] > 0
    codes = [d["unified_social_credit_code"] for d in portfolio.dealers]
    assert all(uscc.is_valid(c) for c in codes if c)
    assert any(codes)


def test_employer_names_vary_in_how_they_are_typed(portfolio: Portfolio) -> None:
    names = {a["employer_name"] for a in portfolio.applications.values() if a["employer_name"]}
    assert any("有限责任公司" in n for n in names) and any(n.endswith("有限公司") for n in names)
    assert any("（" in n for n in names)  # full-width brackets
    assert any(n != n.strip() or " " in n for n in names)  # stray spaces
    sf = {n for n in names if n.replace(" ", "").startswith("顺丰速运")}
    assert len(sf) >= 2  # one employer, several spellings


def expected_price(app: dict[str, str]) -> float:
    """The model's usual price at the age its VIN's model-year letter says."""
    model_year = 2010 + "ABCDEFGHJKLMNPRSTVWXY123456789".index(app["vehicle_vin"][9])
    age = max(0, int(app["submitted_at"][:4]) - model_year)
    return usual_price(MODELS[app["vehicle_model"]], age)


def test_loans_are_consistent(portfolio: Portfolio) -> None:
    for app in portfolio.applications.values():
        price, amount = float(app["vehicle_price"]), float(app["loan_amount"])
        assert int(app["term_months"]) in (12, 24, 36, 48, 60)
        assert amount > 0 and float(app["monthly_income"]) > 0
        if portfolio.truth[app["application_id"]]["is_fraud"] == "false":
            # Honest prices stay within 10% of the usual one for the model and its age.
            assert 0.89 <= price / expected_price(app) <= 1.11, app["application_id"]
        if app["product"] == "refinance":
            assert not app["down_payment"] and amount < price
            continue
        down = float(app["down_payment"])
        assert down + amount == pytest.approx(price)
        assert 0.14 <= down / price <= 0.51, app["application_id"]


def test_submissions_fall_in_the_two_years_before_the_export_date(portfolio: Portfolio) -> None:
    start = datetime.combine(AS_OF - timedelta(days=731), datetime.min.time())
    end = datetime.combine(AS_OF, datetime.min.time())
    times = [datetime.fromisoformat(a["submitted_at"]) for a in portfolio.applications.values()]
    assert all(start <= t < end for t in times)
    assert max(times) - min(times) > timedelta(days=650)


def test_export_date_moves_the_window(tmp_path: Path) -> None:
    as_of = date(2025, 6, 30)
    out = load(generate_portfolio(tmp_path, 500, 2, as_of=as_of))
    export = datetime.combine(as_of, datetime.min.time())
    times = [datetime.fromisoformat(a["submitted_at"]) for a in out.applications.values()]
    assert all(export - timedelta(days=731) <= t < export for t in times)
    assert all(date.fromisoformat(r["due_date"]) < as_of for r in out.repayments if r["paid_date"])


def test_id_registry_renumbers_ids_an_earlier_chunk_holds() -> None:
    registry = IdRegistry(Rng(1))
    first = ["11010119900101123X", "310101198505050021"]
    assert registry.claim(first) == {}
    replacements = registry.claim(["11010119900101123X", "120101197001010015"])
    assert list(replacements) == ["11010119900101123X"]
    new = replacements["11010119900101123X"]
    assert ric.is_valid(new) and new != "11010119900101123X"
    assert new[:14] == "11010119900101" and int(new[16]) % 2 == 1  # same county, birth, sex
    # Every row of the later chunk holding the taken ID gets the same new one.
    column = APPLICATIONS.column_names.index("applicant_id_number")
    width = len(APPLICATIONS.column_names)
    rows = [tuple(number if i == column else "" for i in range(width)) for number in (
        "310101198505050021", "310101198505050021", "44030519921212002x")]  # fmt: skip
    fixed = _reconcile_ids(rows, registry)
    assert fixed[0][column] == fixed[1][column] != "310101198505050021"
    assert ric.is_valid(str(fixed[0][column])) and fixed[2][column] == "44030519921212002x"


# --- truth -----------------------------------------------------------------------------


def test_truth_covers_every_application_once(portfolio: Portfolio) -> None:
    assert portfolio.truth.keys() == portfolio.applications.keys()
    sizes = Counter(t["group_id"] for t in portfolio.truth.values() if t["group_id"])
    for t in portfolio.truth.values():
        if t["group_kind"] == "none":
            assert t["group_id"] == "" and t["is_fraud"] == "false" and t["pattern"] == ""
        else:
            group = portfolio.groups[t["group_id"]]
            assert group["group_kind"] == t["group_kind"]
    assert {g: int(r["size"]) for g, r in portfolio.groups.items()} == dict(sizes)
    for t in portfolio.truth.values():
        group_fraud = portfolio.groups[t["group_id"]]["is_fraud"] if t["group_id"] else "false"
        # Only an identity-theft victim's own application is honest inside a fraud group.
        assert t["is_fraud"] == group_fraud or t["pattern"] == "victim_genuine", t
    assert {g["group_kind"] for g in portfolio.groups.values()} == FRAUD_KINDS | HONEST_KINDS


def test_fraud_share_and_every_pattern_present(portfolio: Portfolio) -> None:
    assert 0.02 <= portfolio.summary.fraud_share <= 0.04
    kinds = Counter(g["group_kind"] for g in portfolio.groups.values())
    assert all(kinds[k] >= 2 for k in FRAUD_KINDS), kinds
    assert sum(kinds[k] for k in HONEST_KINDS) > 3 * sum(kinds[k] for k in FRAUD_KINDS)


def test_sparse_links_connect_without_a_hub() -> None:
    rng = Rng(1)
    for size in range(4, 13):
        for _ in range(50):
            labels = sparse_links(size, RING_LINKS, rng)
            for values in labels.values():
                assert max(Counter(values).values()) <= 4
            assert _connected(size, labels.values())


def _connected(size: int, label_lists: Iterable[list[object]]) -> bool:
    parent = list(range(size))

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for values in label_lists:
        first: dict[object, int] = {}
        for i, v in enumerate(values):
            if v in first:
                parent[find(i)] = find(first[v])
            else:
                first[v] = i
    return len({find(i) for i in range(size)}) == 1


def test_synthetic_rings_are_connected_but_no_value_links_them_all(portfolio: Portfolio) -> None:
    rings = portfolio.members("synthetic_identity_ring")
    assert rings
    for apps in rings.values():
        columns = [
            [normalise(c, a[c]) or f"absent-{i}" for i, a in enumerate(apps)] for c in IDENTIFIERS
        ]
        assert _connected(len(apps), columns)
        if len(apps) >= 5:
            for column, values in zip(IDENTIFIERS, columns, strict=True):
                assert max(Counter(values).values()) < len(apps), (column, values)
        ids = {normalise("applicant_id_number", a["applicant_id_number"]) for a in apps}
        assert len(ids) == len(apps)  # every member a different (fabricated) identity


def test_identity_theft_uses_one_id_at_different_dealers_within_days(portfolio: Portfolio) -> None:
    for apps in portfolio.fraud_members("identity_theft").values():
        assert 3 <= len(apps) <= 5
        assert len({a["applicant_id_number"].upper() for a in apps}) == 1
        assert len({a["dealer_id"] for a in apps}) == len(apps)
        assert len({phone_digits(a["applicant_phone"]) for a in apps}) == len(apps)
        times = sorted(datetime.fromisoformat(a["submitted_at"]) for a in apps)
        assert times[-1] - times[0] <= timedelta(days=7)


def test_fake_employer_phone_is_a_members_mobile(portfolio: Portfolio) -> None:
    for apps in portfolio.members("fake_employer_mill").values():
        assert 6 <= len(apps) <= 15
        mill_phones = {phone_digits(a["employer_phone"]) for a in apps if a["employer_phone"]}
        assert len(mill_phones) == 1
        (mill_phone,) = mill_phones
        assert (
            phonenumbers.number_type(phonenumbers.parse(mill_phone, "CN"))
            == phonenumbers.PhoneNumberType.MOBILE
        )
        member_phones = {
            phone_digits(a[c]) for a in apps for c in ("applicant_phone", "contact_phone")
        }
        assert mill_phone in member_phones
        assert len({a["employer_name"].replace(" ", "") for a in apps}) >= 1


def test_dealer_cashout_inflates_prices_and_reuses_vins(portfolio: Portfolio) -> None:
    for apps in portfolio.members("dealer_cashout").values():
        assert len({(a["dealer_id"], a["sales_agent_id"]) for a in apps}) == 1
        assert max(Counter(a["vehicle_vin"] for a in apps).values()) == 2
        assert max(Counter(a["bank_account"].replace(" ", "") for a in apps).values()) >= 2
        for a in apps:
            assert 1.2 * 0.89 <= float(a["vehicle_price"]) / expected_price(a) <= 1.5 * 1.11
            assert float(a["down_payment"]) / float(a["vehicle_price"]) <= 0.19


def test_honest_hubs_are_shared_by_many_honest_applications(portfolio: Portfolio) -> None:
    honest = [
        a
        for a in portfolio.applications.values()
        if portfolio.truth[a["application_id"]]["is_fraud"] == "false"
    ]
    for column in ("device_id", "ip_address", "employer_phone"):
        top = Counter(a[column] for a in honest if a[column]).most_common(1)[0][1]
        assert top >= 50, column
    families = portfolio.members("family")
    assert families and all(
        len({a["home_address"].replace(" ", "") for a in apps}) < len(apps)
        for apps in families.values()
    )
    for apps in portfolio.members("fleet").values():
        assert len({a["bank_account"].replace(" ", "") for a in apps}) == 1
        assert {a["product"] for a in apps} == {"commercial_vehicle"}
        assert len({a["submitted_at"][:10] for a in apps}) <= 2  # one visit (maybe past midnight)


def test_repeat_customers_keep_identity_and_phone_a_year_apart(portfolio: Portfolio) -> None:
    for apps in portfolio.members("repeat_customer").values():
        assert len({a["applicant_id_number"].upper() for a in apps}) == 1
        assert len({phone_digits(a["applicant_phone"]) for a in apps}) == 1
        times = sorted(datetime.fromisoformat(a["submitted_at"]) for a in apps)
        assert all(b - a >= timedelta(days=300) for a, b in zip(times, times[1:], strict=False))


def test_id_numbers_are_not_shared_outside_groups(portfolio: Portfolio) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for app_id, app in portfolio.applications.items():
        owners[app["applicant_id_number"].upper()].add(
            portfolio.truth[app_id]["group_id"] or app_id
        )
    assert all(len(groups) == 1 for groups in owners.values())


# --- outcomes ----------------------------------------------------------------------------


def test_labels_reference_applications_after_submission_and_before_export(
    portfolio: Portfolio,
) -> None:
    export = datetime.combine(AS_OF, datetime.min.time())
    seen = set()
    for label in portfolio.labels:
        app_id = label["application_id"]
        assert app_id not in seen
        seen.add(app_id)
        submitted = datetime.fromisoformat(portfolio.applications[app_id]["submitted_at"])
        assert submitted < datetime.fromisoformat(label["labeled_at"]) < export
        assert (label["label"] == "fraud") == (portfolio.truth[app_id]["is_fraud"] == "true")
    fraud = [a for a, t in portfolio.truth.items() if t["is_fraud"] == "true"]
    labelled = sum(a in seen for a in fraud) / len(fraud)
    # About half, found group by group: at this scale a few groups more or less move it.
    assert 0.25 <= labelled <= 0.75, labelled
    honest_labelled = (len(seen) - sum(a in seen for a in fraud)) / (N - len(fraud))
    assert 0.01 <= honest_labelled <= 0.06
    assert {label["source"] for label in portfolio.labels} >= {
        "investigation",
        "chargeoff",
        "police_report",
    }


def test_repayments_follow_disbursed_loans_month_by_month(portfolio: Portfolio) -> None:
    schedules: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in portfolio.repayments:
        schedules[r["application_id"]].append(r)
    assert 0.6 * N < len(schedules) < 0.95 * N
    for app_id, rows in schedules.items():
        app = portfolio.applications[app_id]
        assert [int(r["installment_no"]) for r in rows] == list(range(1, len(rows) + 1))
        dues = [date.fromisoformat(r["due_date"]) for r in rows]
        assert dues[0] > datetime.fromisoformat(app["submitted_at"]).date()
        assert all(d < AS_OF for d in dues[:-1]) and len(rows) <= int(app["term_months"])
        assert all(0 < (b - a).days <= 31 for a, b in zip(dues, dues[1:], strict=False))
        for r in rows:
            assert bool(r["paid_date"]) == bool(r["amount_paid"])
            if r["paid_date"]:
                assert date.fromisoformat(r["paid_date"]) < AS_OF
                assert float(r["amount_paid"]) == float(r["amount_due"])


def test_fraud_defaults_on_the_first_instalment_and_honest_loans_rarely(
    portfolio: Portfolio,
) -> None:
    first: dict[str, dict[str, str]] = {}
    for r in portfolio.repayments:
        if r["installment_no"] == "1" and date.fromisoformat(r["due_date"]) < AS_OF:
            first[r["application_id"]] = r
    fpd: dict[bool, list[bool]] = {True: [], False: []}
    for app_id, r in first.items():
        fpd[portfolio.truth[app_id]["is_fraud"] == "true"].append(not r["paid_date"])
    assert 0.45 <= sum(fpd[True]) / len(fpd[True]) <= 0.8
    assert sum(fpd[False]) / len(fpd[False]) < 0.02


# --- formats -------------------------------------------------------------------------------


def _canonical(value: object) -> str:
    """A value as CSV text: absent is empty, numbers as Python prints them."""
    return "" if value is None else str(value)


@pytest.mark.slow
def test_csv_parquet_and_jsonl_hold_the_same_rows(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    for fmt in ("csv", "parquet", "jsonl"):
        generate_portfolio(tmp_path / fmt, 1_500, 9, fmt=fmt)
    for table in TABLES:
        with (tmp_path / "csv" / f"{table.name}.csv").open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            assert next(reader) == list(table.column_names)
            expected = [tuple(r) for r in reader]
        assert expected or table is LABEL_TABLE
        parquet = pq.read_table(tmp_path / "parquet" / f"{table.name}.parquet")
        assert parquet.column_names == list(table.column_names)
        from_parquet = [tuple(_canonical(v) for v in row.values()) for row in parquet.to_pylist()]
        with (tmp_path / "jsonl" / f"{table.name}.jsonl").open(encoding="utf-8") as f:
            objects = [json.loads(line) for line in f]
        assert all(list(o) == list(table.column_names) for o in objects)
        from_jsonl = [tuple(_canonical(v) for v in o.values()) for o in objects]
        assert from_parquet == expected, table.name
        assert from_jsonl == expected, table.name
    for name in ("applications.csv", "groups.csv"):
        assert (tmp_path / "csv" / "truth" / name).read_bytes() == (
            tmp_path / "parquet" / "truth" / name
        ).read_bytes()


@pytest.mark.slow
def test_measure_generation_reports_time_and_memory(tmp_path: Path) -> None:
    timing = measure_generation(tmp_path, 300, seed=4, workers=1)
    assert timing.summary.applications == 300
    assert (tmp_path / "applications.csv").exists()
    assert timing.seconds > 0 and timing.cpu_seconds > 0
    assert 10 < timing.peak_rss_mib < 1_000
    assert timing.worker_peak_rss_mib == 0
