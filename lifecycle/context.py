"""What every lifecycle operation needs, assembled once by the caller (CLI, API, tests)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from graph.privacy import Pseudonymiser
from graph.runner import QueryRunner
from lifecycle import clock
from lifecycle.signals import Scorer


@dataclass
class Lifecycle:
    """The database, the keys, the scorers and the clock of the lifecycle."""

    runner: QueryRunner
    pseudo: Pseudonymiser
    scorers: Sequence[Scorer] = ()
    policy_file: Path | None = None
    sla_working_days: int = 2
    clock: Callable[[], datetime] = field(default=clock.now)
