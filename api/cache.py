"""A small time-limited cache the app keeps for figures that read the whole portfolio
(the dealers league): computed on first use, kept ``ttl`` seconds, one computation at a
time per key, so a burst of page loads costs one full read."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class TtlCache:
    def __init__(self, ttl: float, max_entries: int = 64) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._values: dict[Hashable, tuple[float, Any]] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            kept = self._values.get(key)
            if kept is not None and time.monotonic() - kept[0] < self.ttl:
                return kept[1]  # type: ignore[no-any-return]
            value = compute()
            with self._guard:
                if len(self._values) >= self.max_entries:
                    self._values.pop(min(self._values, key=lambda k: self._values[k][0]))
                self._values[key] = (time.monotonic(), value)
            return value
