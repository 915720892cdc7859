"""What every lifecycle operation needs, assembled once by the caller (CLI, API, tests)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from graph.privacy import Pseudonymiser
from graph.runner import QueryRunner
from lifecycle import clock
from lifecycle.errors import PolicyError
from lifecycle.policy import DEFAULT_POLICY, Policy, load_policy, parse_policy
from lifecycle.signals import Scorer


class PolicyCache:
    """Parsed policies by their JSON text, shared by the decisions of one process.

    A decision reads the active policy's body together with its other facts, and the
    body changes only when a new version is activated: parsing and validating it again
    for every decision was wasted work. Keyed by the text itself, so a new version or an
    edited policy file is simply a miss. ``last`` is the policy the latest decision used;
    its hub cap is the guess the next decision reads with.
    """

    #: A handful of versions are ever live; past this the cache starts over.
    MAX_ENTRIES = 16

    def __init__(self) -> None:
        self._parsed: dict[str, Policy] = {}
        self.last: Policy | None = None

    def resolve(self, active_body: str | None, policy_file: Path | None) -> Policy:
        """The active policy in the graph, else the configured file, else the default
        (as ``policy_store.active_policy``), remembered as ``last``."""
        if active_body is not None:
            policy = self._parse(active_body, lambda: parse_policy(active_body))
        elif policy_file is not None:
            policy = self._from_file(policy_file)
        else:
            policy = DEFAULT_POLICY
        self.last = policy
        return policy

    def guess(self, policy_file: Path | None) -> Policy:
        """The policy the next decision most likely uses, without reading the graph."""
        if self.last is not None:
            return self.last
        if policy_file is None:
            return DEFAULT_POLICY
        try:
            return self._from_file(policy_file)
        except PolicyError:
            # Only a guess: an active policy in the graph may make the file irrelevant,
            # and ``resolve`` raises when it is not.
            return DEFAULT_POLICY

    def _from_file(self, path: Path) -> Policy:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            return load_policy(path)  # raises the PolicyError that names the file
        return self._parse(f"file:{path}\n{text}", lambda: load_policy(path))

    def _parse(self, key: str, parse: Callable[[], Policy]) -> Policy:
        policy = self._parsed.get(key)
        if policy is None:
            policy = parse()
            if len(self._parsed) >= self.MAX_ENTRIES:
                self._parsed.clear()
            self._parsed[key] = policy
        return policy


@dataclass
class Lifecycle:
    """The database, the keys, the scorers and the clock of the lifecycle."""

    runner: QueryRunner
    pseudo: Pseudonymiser
    scorers: Sequence[Scorer] = ()
    policy_file: Path | None = None
    sla_working_days: int = 2
    clock: Callable[[], datetime] = field(default=clock.now)
    policies: PolicyCache = field(default_factory=PolicyCache)
