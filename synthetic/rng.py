"""The generator's random source: ``random.Random`` with faster integer draws.

``random.Random.choice``, ``randrange`` and ``randint`` draw exact integers bit by bit
in Python code, several times slower than scaling one ``random()`` float. Millions of
draws per portfolio make that difference count, and the bias of scaling (below 2**-18
for the largest range drawn here, a permutation modulus under 2**35) does not matter
for synthetic data. Same seed, same sequence: determinism is unaffected.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


class Rng(random.Random):
    """A seeded ``random.Random`` whose integer and choice draws scale ``random()``."""

    def choice(self, seq: Sequence[T]) -> T:
        return seq[int(self.random() * len(seq))]

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:  # type: ignore[override]
        if stop is None:
            start, stop = 0, start
        if step != 1:
            return start + step * int(self.random() * ((stop - start + step - 1) // step))
        return start + int(self.random() * (stop - start))

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))
