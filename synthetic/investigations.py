"""What the investigations team concluded by the export date: the ``labels`` table.

Labels are partial, late and biased to older files, as in a real lender: a ring is
found months after its first defaults, and then most (not all) of its applications are
confirmed together; a first-payment default nobody investigated is eventually charged
off as fraud; a few honest files are cleared after review, more often those that looked
like rings (families, fleets) than plain ones.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from synthetic.applications import Draft, Label
from synthetic.patterns import Group

# Days from a group's last application to its discovery, and the sources that report it.
_DISCOVERY: dict[str, tuple[tuple[int, int], tuple[str, ...]]] = {
    "synthetic_identity_ring": ((75, 240), ("investigation", "investigation", "chargeoff")),
    "identity_theft": ((15, 120), ("police_report", "investigation")),
    "fake_employer_mill": ((60, 300), ("investigation",)),
    "dealer_cashout": ((60, 240), ("investigation", "investigation", "investigation", "chargeoff")),
}
_DISCOVERED = 0.7  # share of fraud groups found by the export date, given time enough
_CONFIRMED = 0.85  # share of a found group's applications the team confirms
_CHARGED_OFF = 0.5  # share of unfound first-payment defaults charged off as fraud
_CHARGEOFF_DAYS = 180  # days past due when a loan is written off
_CLEARED_STRUCTURE = 0.10  # honest look-alikes reviewed and cleared (before age weighting)
_CLEARED_SINGLE = 0.025


def _office_hours(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(9, 18), rng.randrange(60), rng.randrange(60)))


def _age_weight(draft: Draft, as_of: date) -> float:
    """Older files are more likely to have been looked at: 0.4 for new, 1.6 for two years."""
    age = (as_of - draft.submitted.date()).days
    return 0.4 + 1.2 * min(1.0, age / 730)


def investigate(group: Group, as_of: date, rng: random.Random) -> None:
    """Set the label of each of the group's drafts that investigators have decided."""
    if not group.is_fraud:
        for draft in group.drafts:
            _maybe_clear(draft, _CLEARED_STRUCTURE, "investigation", as_of, rng)
        return
    (low, high), sources = _DISCOVERY[group.kind]
    last = max(d.submitted for d in group.drafts if d.is_fraud)
    found = (last + timedelta(days=rng.randint(low, high))).date()
    discovered = found < as_of and rng.random() < _DISCOVERED
    for draft in group.drafts:
        if discovered:
            day = found + timedelta(days=rng.randint(0, 20))
            # Confirmed with the group, the victim's own application cleared with it.
            if draft.submitted.date() < day < as_of and rng.random() < _CONFIRMED:
                draft.label = (
                    Label("fraud", rng.choice(sources), _office_hours(day, rng))
                    if draft.is_fraud
                    else Label("legit", "investigation", _office_hours(day, rng))
                )
                continue
        if draft.is_fraud and draft.disbursed is not None and draft.stop_at == 1:
            day = draft.disbursed + timedelta(days=30 + _CHARGEOFF_DAYS)
            if day < as_of and rng.random() < _CHARGED_OFF:
                draft.label = Label("fraud", "chargeoff", _office_hours(day, rng))


def review_singleton(draft: Draft, as_of: date, rng: random.Random) -> None:
    """A plain application occasionally reviewed and cleared."""
    _maybe_clear(draft, _CLEARED_SINGLE, "manual_review", as_of, rng)


def _maybe_clear(draft: Draft, rate: float, source: str, as_of: date, rng: random.Random) -> None:
    if rng.random() < rate * _age_weight(draft, as_of):
        day = draft.submitted.date() + timedelta(days=rng.randint(1, 45))
        if day < as_of:
            draft.label = Label("legit", source, _office_hours(day, rng))
