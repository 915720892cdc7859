"""Review SLA in Chinese working days: pure functions over dates and times.

Working days follow ``chinese_calendar`` (public holidays off, make-up workdays on). For a
year the calendar does not cover yet, Monday to Friday are working days.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

import chinese_calendar


class SlaState(StrEnum):
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    ESCALATED = "escalated"


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: datetime, days: int) -> datetime:
    """The same clock time ``days`` working days after ``start``.

    A case opened on a day off starts counting from the next working day.
    """
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current.date()):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count


def sla_state(now: datetime, opened_at: datetime, due_at: datetime,
              *, warn_fraction: float = 0.75, escalate_after_days: int = 1) -> SlaState:
    """Where a case stands against its deadline.

    Warning once ``warn_fraction`` of the time to the deadline has passed; breached past
    the deadline; escalated to a supervisor ``escalate_after_days`` working days after.
    """
    if now >= add_working_days(due_at, escalate_after_days):
        return SlaState.ESCALATED
    if now > due_at:
        return SlaState.BREACHED
    if now >= opened_at + (due_at - opened_at) * warn_fraction:
        return SlaState.WARNING
    return SlaState.OK
