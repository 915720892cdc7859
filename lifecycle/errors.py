"""The lifecycle's exceptions, documented in one place.

The API (issue 6) maps each to one problem+json status: ``NotFound`` 404,
``InvalidInput`` 422, ``IllegalTransition`` and ``StaleState`` 409,
``FourEyesViolation`` 403, ``PolicyError`` 422. Messages say what was received, what is
allowed, and where.
"""

from __future__ import annotations


class LifecycleError(RuntimeError):
    """Base of every error raised by the lifecycle package."""


class NotFound(LifecycleError):
    """An id that names nothing stored."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} does not exist")
        self.kind = kind
        self.key = key


class InvalidInput(LifecycleError):
    """A submitted value that the contract or the domain refuses."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


class IllegalTransition(LifecycleError):
    """A state change the state machine does not allow."""

    def __init__(self, what: str, key: str, current: str, target: str,
                 allowed: tuple[str, ...]) -> None:
        allowed_text = ", ".join(allowed) if allowed else "none (final state)"
        super().__init__(f"{what} {key!r}: cannot go from {current!r} to {target!r}; "
                         f"allowed from {current!r}: {allowed_text}")
        self.what = what
        self.key = key
        self.current = current
        self.target = target
        self.allowed = allowed


class StaleState(LifecycleError):
    """The stored state changed between reading it and writing the change."""


class FourEyesViolation(LifecycleError):
    """The checker of a four-eyes action is its maker, or the action was decided already."""


class PolicyError(LifecycleError):
    """A policy that does not validate (thresholds out of order, unknown rule codes)."""
