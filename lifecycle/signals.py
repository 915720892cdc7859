"""What the decision path knows about one application: rule hits and model scores.

``RiskSignals`` is the whole input of a decision. It is assembled from the rule query
(:mod:`lifecycle.rules`) and from pluggable ``Scorer`` callables (ring and GNN adapters in
:mod:`lifecycle.scorers`), and stored frozen with every decision.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from graph.runner import QueryRunner


class Band(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class RuleHit(BaseModel):
    """One matching rule: a code, its risk band, a plain-words reason and the evidence."""

    code: str
    band: Band
    reason: str
    evidence: dict[str, Any] = Field(default_factory=dict)


class ScoreSignal(BaseModel):
    """A model's view of the application; ``available`` is false when it could not run."""

    source: Literal["ring", "gnn"]
    available: bool
    score: float | None = Field(default=None, ge=0.0, le=1.0)
    version: str | None = None
    reasons: list[str] = Field(default_factory=list)
    unavailable_code: str | None = None
    unavailable_reason: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def unavailable(cls, source: Literal["ring", "gnn"], code: str, reason: str) -> ScoreSignal:
        return cls(source=source, available=False, unavailable_code=code,
                   unavailable_reason=reason)


class RiskSignals(BaseModel):
    """Everything a decision is computed from."""

    application_id: str
    rule_hits: list[RuleHit] = Field(default_factory=list)
    scores: list[ScoreSignal] = Field(default_factory=list)

    def score(self, source: str) -> ScoreSignal | None:
        return next((s for s in self.scores if s.source == source), None)


class Scorer(Protocol):
    """Scores one application already in the graph. Must not raise for a missing model:
    return ``ScoreSignal.unavailable(...)`` with a reason code instead."""

    def __call__(self, runner: QueryRunner, application_id: str) -> ScoreSignal: ...


@runtime_checkable
class BatchScorer(Protocol):
    """A scorer that can also score a batch of submissions at once (cheaper than one by
    one). ``score_many`` gives a signal per application it scored, by id; an application
    left out is scored one at a time. Like ``__call__``, it must not raise for a missing
    model or a failed score."""

    def __call__(self, runner: QueryRunner, application_id: str) -> ScoreSignal: ...

    def score_many(self, runner: QueryRunner,
                   application_ids: list[str]) -> dict[str, ScoreSignal]: ...

