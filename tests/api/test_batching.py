"""The submission batcher: whatever queued while a batch was decided goes into the next
one, a repeat of a submission waits for a later batch, and every request gets its own
answer (decisions from the real Neo4j)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from api.batching import SubmissionBatcher
from graph.runner import QueryRunner
from lifecycle import decision
from lifecycle.context import Lifecycle
from lifecycle.errors import IllegalTransition
from tests.utils import application_row


@pytest.fixture
def ctx(runner: QueryRunner, pseudo) -> Lifecycle:  # type: ignore[no-untyped-def]
    return Lifecycle(runner=runner, pseudo=pseudo)


def test_queued_submissions_are_decided_together(ctx: Lifecycle,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    real = decision.submit_together
    sizes: list[list[str]] = []
    first_started, release = threading.Event(), threading.Event()

    def observed(c, submissions):  # type: ignore[no-untyped-def]
        sizes.append([s.record.key for s in submissions])
        if len(sizes) == 1:  # hold the first batch until the others have queued
            first_started.set()
            release.wait(10)
        return real(c, submissions)

    monkeypatch.setattr(decision, "submit_together", observed)
    batcher = SubmissionBatcher(max_batch=4, workers=1)
    rows = [application_row(n) for n in (1, 2, 3, 4, 2, 5)]

    async def main() -> list[object]:
        first = asyncio.ensure_future(batcher.decide(ctx, decision.prepare(ctx, rows[0])))
        await asyncio.to_thread(first_started.wait, 10)
        rest = [asyncio.ensure_future(batcher.decide(ctx, decision.prepare(ctx, row)))
                for row in rows[1:]]
        await asyncio.sleep(0.05)
        release.set()
        return await asyncio.gather(first, *rest, return_exceptions=True)

    try:
        outcomes = asyncio.run(main())
    finally:
        batcher.close()
    # 1 alone; 2, 3, 4 together; the repeat of 2 ends that batch and starts the next, with
    # 5 (that batch fails on the repeat, so both are decided again alone).
    assert sizes == [["APP000001"], ["APP000002", "APP000003", "APP000004"],
                     ["APP000002", "APP000005"]]
    assert isinstance(outcomes[4], IllegalTransition)
    decided = [o for i, o in enumerate(outcomes) if i != 4]
    assert [d.application_id for d in decided] == [  # type: ignore[attr-defined]
        "APP000001", "APP000002", "APP000003", "APP000004", "APP000005"]


def test_a_failing_batch_answers_every_request(ctx: Lifecycle,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(c, submissions):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt  # not even an Exception: no request may wait for ever

    monkeypatch.setattr(decision, "submit_together", broken)
    batcher = SubmissionBatcher(max_batch=4, workers=1)

    async def main() -> list[object]:
        return await asyncio.gather(
            *(batcher.decide(ctx, decision.prepare(ctx, application_row(n))) for n in (1, 2)),
            return_exceptions=True)

    try:
        outcomes = asyncio.run(asyncio.wait_for(main(), 10))
    finally:
        batcher.close()
    assert [type(o).__name__ for o in outcomes] == ["RuntimeError", "RuntimeError"]
