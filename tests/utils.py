"""Test factories: contract rows and folders built by hand, and a canonical graph dump."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from stdnum.iso7064 import mod_11_2

from graph.runner import Query, QueryRunner
from ingest.contract import APPLICATIONS, DEALERS, TABLES_BY_NAME


def id_number(area: str = "310101", born: str = "19900101", seq: str = "123") -> str:
    body = area + born + seq
    return body + mod_11_2.calc_check_digit(body)


def dealer_row(dealer_id: str = "D1", **overrides: str) -> dict[str, str]:
    row = {"dealer_id": dealer_id, "name": f"上海{dealer_id}汽车销售服务有限公司", "city": "上海",
           "unified_social_credit_code": "", "onboarded_on": "2022-01-01"}
    row.update(overrides)
    return row


def application_row(n: int = 1, **overrides: str) -> dict[str, str]:
    """A valid application; ``n`` varies every identifier so rows share nothing."""
    row = {
        "application_id": f"APP{n:06d}",
        "submitted_at": f"2026-03-{1 + n % 28:02d}T10:00:00",
        "dealer_id": "D1",
        "sales_agent_id": "SA1",
        "product": "new_car",
        "applicant_id_number": id_number(seq=f"{n % 1000:03d}", born=f"19{60 + n % 40}0101"),
        "applicant_name": "张三",
        "applicant_phone": f"138{n:08d}",
        "device_id": f"dev{n:04d}",
        "ip_address": f"10.0.{n // 256 % 256}.{n % 256}",
        "employer_name": f"公司{n}有限公司",
        "employer_phone": "021-65116166",
        "home_address": f"上海市黄浦区{n}号",
        "contact_name": "李四",
        "contact_phone": f"139{n:08d}",
        "bank_account": f"62220000{n:011d}",
        "vehicle_vin": f"LSVAB{n:012d}",
        "vehicle_model": "大众朗逸",
        "vehicle_price": "120000",
        "loan_amount": "90000",
        "down_payment": "30000",
        "term_months": "36",
        "monthly_income": "12000",
    }
    row.update(overrides)
    return row


def write_table(folder: Path, table: str, rows: list[dict[str, Any]],
                columns: tuple[str, ...] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    names = list(columns or TABLES_BY_NAME[table].column_names)
    path = folder / f"{table}.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def export(folder: Path, applications: list[dict[str, str]],
           dealers: list[dict[str, str]] | None = None) -> Path:
    write_table(folder, DEALERS.name, dealers if dealers is not None else [dealer_row()])
    write_table(folder, APPLICATIONS.name, applications)
    return folder


DUMP_NODES = Query(
    "test.dump_nodes",
    "MATCH (n) WHERE NOT n:IngestRun "
    "RETURN labels(n)[0] AS label, properties(n) AS props",
)
DUMP_RELS = Query(
    "test.dump_rels",
    "MATCH (a)-[r]->(b) RETURN labels(a)[0] AS a, coalesce(a.application_id, a.key, "
    "a.dealer_id, a.agent_id) AS ak, type(r) AS type, labels(b)[0] AS b, "
    "coalesce(b.application_id, b.key, b.dealer_id, b.agent_id) AS bk",
)
# Ciphertexts carry a random nonce and run ids differ between runs: not part of the state.
_VOLATILE = ("enc", "ingest_run")


def graph_state(runner: QueryRunner) -> tuple[list[str], list[tuple[str, ...]]]:
    """A canonical, comparable picture of the whole graph."""
    nodes = sorted(
        json.dumps([row["label"], {k: v for k, v in row["props"].items()
                                   if not k.endswith(_VOLATILE)}], sort_keys=True, default=str)
        for row in runner.read(DUMP_NODES)
    )
    rels = sorted(tuple(str(v) for v in row.values()) for row in runner.read(DUMP_RELS))
    return nodes, rels
