"""When things happen: the submission window before the export date and dealer hours."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, time, timedelta

from synthetic.identities import WeightedChoice

#: The export date used when the caller gives none: fixed, so a seed alone fixes the data.
DEFAULT_AS_OF = date(2026, 10, 31)
#: Applications are submitted over this many days before the export date.
WINDOW_DAYS = 730
# Volume grows over the window (the lender is expanding): density rises by this much.
_GROWTH = 0.6
# Showroom hours: most applications are keyed in between 9:00 and 21:00.
_HOURS = WeightedChoice(
    range(24),
    (0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 1.0, 3.0, 6.0, 9.0, 10.0,
     8.0, 7.0, 9.0, 10.0, 9.0, 8.0, 7.0, 7.0, 6.0, 4.0, 1.5, 0.5),
)  # fmt: skip


class Timeline:
    """Draws submission instants in the window ``[as_of - WINDOW_DAYS, as_of)``."""

    def __init__(self, rng: random.Random, as_of: date) -> None:
        self.rng = rng
        self.as_of = as_of
        self.end = datetime.combine(as_of, time())
        self.start = self.end - timedelta(days=WINDOW_DAYS)

    def day(self, latest: datetime | None = None) -> date:
        """A submission day in the window, before ``latest`` if given.

        Volume grows over the window and weekends are busier at dealers.
        """
        rng = self.rng
        lo = self.start
        hi = min(self.end, latest) if latest else self.end
        span = max(1, (hi - lo).days)
        while True:
            # Inverse CDF of a linearly rising density on [0, 1).
            v = rng.random()
            u = (math.sqrt(1 + 2 * _GROWTH * (1 + _GROWTH / 2) * v) - 1) / _GROWTH
            day = lo.date() + timedelta(days=int(u * span))
            if day.weekday() >= 5 or rng.random() < 0.8:
                return day

    def at(self, day: date, odd_hours: float = 0.0) -> datetime:
        """An instant on ``day`` during showroom hours; ``odd_hours`` is the share at night."""
        rng = self.rng
        hour = rng.randrange(0, 6) if odd_hours and rng.random() < odd_hours else _HOURS(rng)
        return datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60))

    def instant(self, latest: datetime | None = None) -> datetime:
        """A submission instant in the window, on a day before ``latest`` if given."""
        return self.clamp(self.at(self.day(latest)))

    def clamp(self, moment: datetime) -> datetime:
        """Keep a derived instant (a ring member a few days later) inside the window."""
        return min(max(moment, self.start), self.end - timedelta(seconds=1))
