"""One ring's export as a single file to send: the same writers as ``fraudgraph export
rings`` (rings/export.py, rings/report.py), run on that ring alone.

CSV is three tables (rings, members, shared identifiers), so it travels as one ZIP.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from graph.runner import QueryRunner
from rings import export, report
from rings.config import RingConfig
from rings.runs import PORTFOLIO_CONCENTRATION, load_run

MEDIA_TYPES = {
    "csv": "application/zip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "graphml": "application/graphml+xml",
    "gexf": "application/gexf+xml",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
assert set(MEDIA_TYPES) == set(export.ALL_FORMATS)


@dataclass(frozen=True)
class RingFile:
    data: bytes
    media_type: str
    filename: str


def ring_file(runner: QueryRunner, ring_id: str, fmt: str, config: RingConfig,
              run_id: str | None = None) -> RingFile:
    """The ring's export in ``fmt`` (one of ``export.ALL_FORMATS``); the ring must exist
    in the run (callers check with ``rings.browse.ring_key``)."""
    if fmt not in MEDIA_TYPES:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(MEDIA_TYPES)}")
    data = load_run(runner, run_id, ring_id=ring_id, grace_days=config.fpd_grace_days)
    with tempfile.TemporaryDirectory(prefix="ring-export-") as tmp:
        out = Path(tmp)
        if fmt in export.TABULAR_FORMATS:
            paths = export.write_tabular(data, out, fmt)
        elif fmt in export.GRAPH_FORMATS:
            paths = export.write_graph(data, out, fmt)
        else:
            members = data.members
            concentration = pd.DataFrame(runner.read(
                PORTFOLIO_CONCENTRATION, dealers=sorted(set(members["dealer_id"].dropna())),
                agents=sorted(set(members["sales_agent_id"].dropna()))))
            paths = report.write_ring_reports(data, out, fmt, [ring_id], concentration,
                                              config.alert_threshold)
        if fmt == "csv":
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in paths:
                    archive.write(path, path.name)
            body = buffer.getvalue()
            filename = f"ring-{ring_id}-csv.zip"
        else:
            body = paths[0].read_bytes()
            filename = f"ring-{ring_id}.{fmt}"
    return RingFile(body, MEDIA_TYPES[fmt], filename)
