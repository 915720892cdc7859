"""Time and ids for the lifecycle: Asia/Shanghai wall-clock, short random ids."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta, timezone

# A fixed +08:00 offset (China has no daylight saving since 1991), as ingest uses: the
# Neo4j driver crashes on ZoneInfo datetimes in some conversions.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


def now() -> datetime:
    return datetime.now(SHANGHAI)


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=SHANGHAI)


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"
