"""The versioned decision policy: rule hits and scores in, a tier and reasons out. Pure.

Tier A approves automatically, B goes to manual review, C declines. Every decision
carries reason codes in plain words, strongest first; adverse decisions (B, C) carry at
most ``max_adverse_reasons`` principal reasons (four, as lenders do).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from lifecycle.errors import PolicyError
from lifecycle.signals import RiskSignals


class Tier(StrEnum):
    A = "A"  # automatic approval
    B = "B"  # manual review
    C = "C"  # decline


class RuleWeight(BaseModel):
    points: int = Field(ge=0, le=1000)
    decline: bool = False  # a hit declines whatever the points


class ScoreWeight(BaseModel):
    """Points for a model score: ``points * score`` once the score reaches ``min_score``;
    ``review_at`` / ``decline_at`` force a tier by the score alone."""

    points: int = Field(default=60, ge=0, le=1000)
    min_score: float = Field(default=0.3, ge=0.0, le=1.0)
    review_at: float | None = Field(default=None, ge=0.0, le=1.0)
    decline_at: float | None = Field(default=None, ge=0.0, le=1.0)


class Policy(BaseModel):
    """A complete decision policy; ``version`` names it in every stored decision."""

    version: str = Field(min_length=1)
    review_at: int = Field(ge=1)
    decline_at: int = Field(ge=1)
    rules: dict[str, RuleWeight]
    scores: dict[Literal["ring", "gnn"], ScoreWeight] = Field(default_factory=dict)
    #: What a scorer that could not run does: nothing, or send the application to review.
    unavailable_scorer: Literal["ignore", "review"] = "ignore"
    max_adverse_reasons: int = Field(default=4, ge=1, le=10)
    #: Identifiers shared by more applications than this are hubs (dealer kiosks, office
    #: networks, fleet accounts) and count as no evidence in the sharing rules.
    hub_cap: int = Field(default=6, ge=2)

    @model_validator(mode="after")
    def _ordered(self) -> Policy:
        if self.review_at >= self.decline_at:
            raise ValueError(f"review_at ({self.review_at}) must be below decline_at "
                             f"({self.decline_at})")
        from lifecycle.rules import RULES

        unknown = sorted(set(self.rules) - set(RULES))
        if unknown:
            raise ValueError(f"unknown rule codes {unknown}; known: {sorted(RULES)}")
        for source, weight in self.scores.items():
            if (weight.review_at is not None and weight.decline_at is not None
                    and weight.review_at >= weight.decline_at):
                raise ValueError(f"scores.{source}: review_at must be below decline_at")
        return self

    def to_json(self) -> str:
        return self.model_dump_json()


DEFAULT_POLICY = Policy(
    version="2026.11-default",
    review_at=30,
    decline_at=90,
    rules={
        "R101": RuleWeight(points=45),  # identity at other dealers within 30 days
        "R102": RuleWeight(points=30),  # contact phone is another applicant's own phone
        "R103": RuleWeight(points=60),  # VIN already financed
        "R104": RuleWeight(points=90),  # device shared with confirmed fraud
        "R105": RuleWeight(points=90),  # phone shared with confirmed fraud
        "R106": RuleWeight(points=90),  # account shared with confirmed fraud
        "R107": RuleWeight(points=35),  # payout account shared across applicants
        "R108": RuleWeight(points=100, decline=True),  # watchlist
        "R109": RuleWeight(points=30),  # device used by several applicants
        "R110": RuleWeight(points=10),  # instalment above half the declared income
        "R111": RuleWeight(points=90),  # identity of a confirmed fraud case
    },
    scores={
        "ring": ScoreWeight(points=60, min_score=0.3, review_at=0.5, decline_at=0.9),
        "gnn": ScoreWeight(points=60, min_score=0.3, review_at=0.7, decline_at=0.95),
    },
)


class Reason(BaseModel):
    code: str
    text: str
    points: float


class Verdict(BaseModel):
    tier: Tier
    points: float
    reasons: list[Reason]
    policy_version: str


def load_policy(path: Path) -> Policy:
    """Read a policy from a JSON file; errors name the file and the field."""
    try:
        return Policy.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise PolicyError(f"{path}: policy file does not exist") from None
    except json.JSONDecodeError as exc:
        raise PolicyError(f"{path}: not valid JSON ({exc})") from None
    except ValidationError as exc:
        raise PolicyError(f"{path}: {exc}") from None


def parse_policy(body: str | dict) -> Policy:  # type: ignore[type-arg]
    try:
        if isinstance(body, str):
            return Policy.model_validate_json(body)
        return Policy.model_validate(body)
    except ValidationError as exc:
        raise PolicyError(str(exc)) from None


_SEVERITY = {Tier.A: 0, Tier.B: 1, Tier.C: 2}


def decide(signals: RiskSignals, policy: Policy) -> Verdict:
    """Turn rule hits and scores into a tier with reasons, strongest first."""
    reasons: list[Reason] = []
    forced = Tier.A
    for hit in signals.rule_hits:
        weight = policy.rules.get(hit.code)
        if weight is None:
            continue  # a rule the policy does not use
        reasons.append(Reason(code=hit.code, text=hit.reason, points=weight.points))
        if weight.decline:
            forced = Tier.C
    for signal in signals.scores:
        weight = policy.scores.get(signal.source)
        if weight is None:
            continue
        if not signal.available:
            if policy.unavailable_scorer == "review":
                forced = max(forced, Tier.B, key=_SEVERITY.__getitem__)
                reasons.append(Reason(code=signal.unavailable_code or "U000",
                                      text=f"{signal.source} score unavailable: "
                                           f"{signal.unavailable_reason}", points=0))
            continue
        score = signal.score or 0.0
        name = "ring" if signal.source == "ring" else "graph model"
        if score >= weight.min_score:
            detail = "; ".join(signal.reasons[:2])
            text = f"{name} risk score {score:.2f}" + (f" ({detail})" if detail else "")
            reasons.append(Reason(code=f"S_{signal.source.upper()}", text=text,
                                  points=round(weight.points * score, 1)))
        if weight.decline_at is not None and score >= weight.decline_at:
            forced = Tier.C
        elif weight.review_at is not None and score >= weight.review_at:
            forced = max(forced, Tier.B, key=_SEVERITY.__getitem__)
    points = round(sum(r.points for r in reasons), 1)
    by_points = Tier.C if points >= policy.decline_at else (
        Tier.B if points >= policy.review_at else Tier.A)
    tier = max(forced, by_points, key=_SEVERITY.__getitem__)
    reasons.sort(key=lambda r: (-r.points, r.code))
    if tier == Tier.A:
        reasons = [r for r in reasons if r.points > 0] or [
            Reason(code="A000", text="no rule hit and no model score above the review "
                                     "threshold", points=0)]
    else:
        reasons = reasons[: policy.max_adverse_reasons]
    return Verdict(tier=tier, points=points, reasons=reasons, policy_version=policy.version)
