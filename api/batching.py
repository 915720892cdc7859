"""Submissions that arrive together are decided together.

Every statement and every transaction costs Neo4j and the driver a fixed price whatever
its size, and a decision is a handful of each. Under load, submissions queue for the
database anyway; the batcher hands whatever has queued meanwhile (at most
``api_batch_max``) to one transaction, ``lifecycle.decision.submit_together``, so that
price is paid once per batch instead of once per submission. It never waits to fill a
batch: a lone submission goes straight through, alone, as it would without it.

``api_batch_workers`` threads decide batches, so that one batch is scored in Python
while another waits on Neo4j. Each submission gets the answer it would have got alone
(the decision module sends each through again on its own when a shared transaction
fails); a submission repeated inside one batch waits for the next.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field

from prometheus_client import Histogram

from fraudgraph.logs import get_logger
from lifecycle import decision
from lifecycle.context import Lifecycle
from lifecycle.decision import Decision, Submission

BATCH_SIZE = Histogram("fraudgraph_submit_batch_size", "Submissions decided together",
                       buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))
log = get_logger("api.batching")


@dataclass
class _Item:
    ctx: Lifecycle
    submission: Submission
    future: Future[Decision] = field(default_factory=Future)

    @property
    def key(self) -> str:
        return self.submission.record.key


class SubmissionBatcher:
    """Decides queued submissions in batches on its own threads; ``decide`` awaits one."""

    def __init__(self, max_batch: int = 16, workers: int = 2) -> None:
        self.max_batch = max_batch
        self.workers = workers
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    async def decide(self, ctx: Lifecycle, submission: Submission) -> Decision:
        """The submission's decision, or the exception deciding it raised."""
        self._start()
        item = _Item(ctx, submission)
        self._queue.put(item)
        return await asyncio.wrap_future(item.future)

    def _start(self) -> None:
        if self._threads:
            return
        with self._lock:
            if not self._threads:
                self._threads = [threading.Thread(target=self._run, name=f"submit-{n}",
                                                  daemon=True) for n in range(self.workers)]
                for thread in self._threads:
                    thread.start()

    def close(self, timeout: float = 30.0) -> None:
        """Let the threads finish what is queued, then stop them."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def _run(self) -> None:
        carry: deque[_Item] = deque()  # repeats of a submission already in the last batch
        while True:
            first = carry.popleft() if carry else self._queue.get()
            if first is None:
                return
            batch, stop = self._fill(first, carry)
            self._decide(batch)
            if stop:
                for item in carry:
                    self._decide([item])
                return

    def _fill(self, first: _Item, carry: deque[_Item]) -> tuple[list[_Item], bool]:
        """``first`` and whatever else is queued now, up to the batch size; whether the
        stop signal was met."""
        batch, keys = [first], {first.key}
        while len(batch) < self.max_batch and not carry:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return batch, True
            if item.key in keys:
                carry.append(item)
                break
            batch.append(item)
            keys.add(item.key)
        return batch, False

    @staticmethod
    def _decide(batch: list[_Item]) -> None:
        BATCH_SIZE.observe(len(batch))
        try:
            outcomes = decision.submit_together(batch[0].ctx, [i.submission for i in batch])
        except BaseException as exc:  # never leave a request waiting for ever
            log.error("batch failed", submissions=len(batch), error=type(exc).__name__)
            outcomes = [exc if isinstance(exc, Exception) else RuntimeError(str(exc))
                        for _ in batch]
        for item, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, Exception):
                item.future.set_exception(outcome)
            else:
                item.future.set_result(outcome)
