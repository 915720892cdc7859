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
