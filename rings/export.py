"""Ring exports for analysts: CSV, XLSX, JSON of rings and members; GraphML and GEXF for
Gephi; the per-application scores file. Personal identifiers appear masked only."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pandas as pd

from rings.runs import RunData

TABULAR_FORMATS = ("csv", "xlsx", "json")
GRAPH_FORMATS = ("graphml", "gexf")
REPORT_FORMATS = ("html", "pdf")
ALL_FORMATS = TABULAR_FORMATS + GRAPH_FORMATS + REPORT_FORMATS


def rings_table(data: RunData) -> pd.DataFrame:
    """One row per ring, list columns joined for flat formats."""
    frame = data.rings.copy()
    for column in ("reasons", "reason_codes", "reason_points"):
        if column in frame:
            frame[column] = frame[column].map(lambda v: "; ".join(map(str, v)) if v else "")
    for column in frame.columns:
        if frame[column].map(lambda v: hasattr(v, "iso_format")).any():
            frame[column] = frame[column].map(lambda v: v.iso_format() if v else "")
    first = ["ring_id", "run_id", "score", "size", "reasons"]
    return frame[[c for c in first if c in frame] + [c for c in frame if c not in first]]


def write_tabular(data: RunData, out: Path, fmt: str) -> list[Path]:
    """rings and members (and shared identifiers) as CSV files, one XLSX or one JSON."""
    out.mkdir(parents=True, exist_ok=True)
    rings, members, idents = rings_table(data), data.members, data.identifiers
    idents = idents.drop(columns=["key"])  # keyed tokens are for matching, not for reading
    if fmt == "csv":
        paths = [out / "rings.csv", out / "ring_members.csv", out / "ring_identifiers.csv"]
        for frame, path in zip((rings, members, idents), paths, strict=True):
            frame.to_csv(path, index=False, encoding="utf-8")
        return paths
    if fmt == "xlsx":
        path = out / "rings.xlsx"
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            rings.to_excel(writer, sheet_name="rings", index=False)
            members.to_excel(writer, sheet_name="members", index=False)
            idents.to_excel(writer, sheet_name="shared_identifiers", index=False)
        return [path]
    if fmt == "json":
        path = out / "rings.json"
        by_ring = members.groupby("ring_id") if len(members) else {}
        payload = {"run": {k: str(v) for k, v in data.run.items()}, "rings": []}
        for ring in rings.to_dict(orient="records"):
            ring["members"] = (by_ring.get_group(ring["ring_id"]).to_dict(orient="records")
                               if len(members) else [])
            payload["rings"].append(ring)
        path.write_text(json.dumps(payload, ensure_ascii=False, indent=1, default=str),
                        encoding="utf-8")
        return [path]
    raise ValueError(f"unknown tabular format {fmt!r}; expected one of {TABULAR_FORMATS}")


def ring_graph(data: RunData, ring_id: str | None = None) -> nx.Graph:
    """Applications and the identifiers they share, as one networkx graph (all rings or
    one). Node attributes are plain strings/numbers, so GraphML and GEXF can hold them."""
    graph = nx.Graph()
    members = data.members if ring_id is None else data.members[data.members["ring_id"]
                                                                == ring_id]
    scores = dict(zip(data.rings["ring_id"], data.rings["score"], strict=True)) \
        if len(data.rings) else {}
    for row in members.itertuples():
        graph.add_node(row.application_id, kind="Application", ring_id=row.ring_id,
                       ring_score=float(scores.get(row.ring_id, 0.0)),
                       label=str(row.label or ""), dealer_id=str(row.dealer_id or ""),
                       submitted_at=str(row.submitted_at or ""))
    idents = data.identifiers if ring_id is None else data.identifiers[
        data.identifiers["ring_id"] == ring_id]
    for number, (_key, rows) in enumerate(idents.groupby("key", sort=False)):
        first = rows.iloc[0]
        node = f"{first['kind']}:{number}"
        graph.add_node(node, kind=str(first["kind"]), shown=str(first["shown"]),
                       degree=int(first["degree"]))
        for row in rows.itertuples():
            graph.add_edge(row.application_id, node, rel=row.rel)
    return graph


def write_graph(data: RunData, out: Path, fmt: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    graph = ring_graph(data)
    path = out / f"rings.{fmt}"
    if fmt == "graphml":
        nx.write_graphml(graph, path)
    elif fmt == "gexf":
        nx.write_gexf(graph, path)
    else:
        raise ValueError(f"unknown graph format {fmt!r}; expected one of {GRAPH_FORMATS}")
    return [path]


def write_scores(frame: pd.DataFrame, out: Path) -> Path:
    """The per-application scores (CSV, or XLSX/JSON/Parquet by extension)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".xlsx":
        frame.to_excel(out, index=False)
    elif suffix == ".json":
        frame.to_json(out, orient="records", force_ascii=False)
    elif suffix == ".parquet":
        frame.to_parquet(out, index=False)
    else:
        frame.to_csv(out, index=False, encoding="utf-8")
    return out
