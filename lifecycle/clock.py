"""Time and ids for the lifecycle: Asia/Shanghai wall-clock, short random ids."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    return datetime.now(SHANGHAI)


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=SHANGHAI)


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"
