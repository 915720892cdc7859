"""Lifecycle fixtures: a context over the clean test database with a clock tests move."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from graph.privacy import Pseudonymiser
from graph.runner import Query, QueryRunner
from lifecycle.clock import SHANGHAI
from lifecycle.context import Lifecycle
from lifecycle.decision import Decision, submit_application
from lifecycle.servicing import contract, disburse
from tests.utils import application_row

COUNT = Query("test.lifecycle.count", "MATCH (n) WHERE $label IN labels(n) RETURN count(n) AS n")
APP = Query("test.lifecycle.app",
            "MATCH (a:Application {application_id: $id}) RETURN a {.*} AS a")


class Clock:
    """A settable clock: ``clock()`` is now; ``clock.advance(...)`` moves it."""

    def __init__(self, start: datetime) -> None:
        self.value = start

    def __call__(self) -> datetime:
        return self.value

    def advance(self, **delta: float) -> None:
        self.value += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI))  # a Monday


@pytest.fixture
def ctx(runner: QueryRunner, pseudo: Pseudonymiser, clock: Clock) -> Lifecycle:
    return Lifecycle(runner=runner, pseudo=pseudo, clock=clock, sla_working_days=2)


def count(runner: QueryRunner, label: str) -> int:
    return int(runner.read(COUNT, label=label)[0]["n"])


def app(runner: QueryRunner, application_id: str) -> dict:  # type: ignore[type-arg]
    rows = runner.read(APP, id=application_id)
    return rows[0]["a"] if rows else {}


def submit(ctx: Lifecycle, n: int, **overrides: str) -> Decision:
    return submit_application(ctx, application_row(n, **overrides))


def disbursed_loan(ctx: Lifecycle, n: int, **overrides: str) -> str:
    decision = submit(ctx, n, **overrides)
    assert decision.tier == "A", decision.reasons
    contract(ctx, decision.application_id, by="ops1")
    disburse(ctx, decision.application_id, by="ops1")
    return decision.application_id
