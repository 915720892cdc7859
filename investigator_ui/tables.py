"""Rows from the API as data frames with translated column headers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from investigator_ui import session


def frame(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """Only ``columns`` (missing ones empty), headed by their ``col_*`` translations."""
    data = pd.DataFrame([{c: row.get(c) for c in columns} for row in rows], columns=columns)
    return data.rename(columns={c: session.tr(f"col_{c}") for c in columns})


def counts_by_day(rows: Iterable[dict[str, Any]], column: str) -> pd.DataFrame:
    """How many rows per day of ``column`` (ISO text or dates), in order: ``column`` and
    ``count``."""
    data = pd.DataFrame([{column: str(row.get(column))[:10]} for row in rows
                         if row.get(column)], columns=[column])
    return data.groupby(column, dropna=True).size().reset_index(name="count")


def agent_rows(dealers: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every dealer's agents as one table, most ring members first."""
    rows = [{"dealer_id": d["dealer_id"], **agent}
            for d in dealers for agent in d.get("agents") or []]
    return sorted(rows, key=lambda r: (-(r.get("ring_members") or 0), str(r.get("agent_id"))))
