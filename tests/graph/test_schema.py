from __future__ import annotations

from graph.constraints import ensure_schema
from graph.runner import Query, QueryRunner
from graph.schema import IDENTIFIER_RELS, LINKS, NODE_KEYS, Label
from ingest.contract import APPLICATIONS

CONSTRAINTS = Query("test.constraints", "SHOW CONSTRAINTS YIELD labelsOrTypes, properties "
                    "RETURN labelsOrTypes[0] AS label, properties[0] AS key")


def test_every_link_names_a_contract_column_and_a_distinct_type() -> None:
    assert {link.column for link in LINKS} <= set(APPLICATIONS.column_names)
    assert len(IDENTIFIER_RELS) == len(LINKS)


def test_schema_setup_is_idempotent_and_covers_every_key(runner: QueryRunner) -> None:
    ensure_schema(runner)
    first = sorted((r["label"], r["key"]) for r in runner.read(CONSTRAINTS))
    ensure_schema(runner)
    second = sorted((r["label"], r["key"]) for r in runner.read(CONSTRAINTS))
    assert first == second
    assert {(label.value, key) for label, key in NODE_KEYS.items()} <= set(first)
    assert (Label.PHONE.value, "key") in first
