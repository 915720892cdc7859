"""One readable file per ring, HTML or PDF, with the contents of domain-notes' "What a
ring report contains": header, summary, why flagged, masked members, shared-identifier
matrix, timeline, picture, dealer and agent concentration, disposition, approvals and an
audit appendix. The content is assembled once (`ring_sections`) and rendered twice.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rings.export import ring_graph
from rings.ringgraph import picture_png, structure
from rings.runs import RunData

Table = tuple[list[str], list[list[str]]]


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    table: Table | None = None
    picture: bytes | None = None


def _fmt(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:g}"
    return str(value)


def _recommendations(score: float, threshold: float) -> list[str]:
    if score > threshold:
        return ["Hold and review pending applications of the members before funding.",
                "Ask the approver (four eyes) to confirm the ring before blacklisting "
                "its shared identifiers.",
                "Audit the dealer and agent concentration shown above.",
                "Start early collection contact on disbursed members; refer if confirmed."]
    return ["Below the alert threshold: monitor; no action on members without new evidence."]


def ring_sections(data: RunData, ring_id: str, concentration: pd.DataFrame | None = None,
                  alert_threshold: float = 50.0) -> list[Section]:
    """Every section of one ring's report."""
    ring = data.rings[data.rings["ring_id"] == ring_id].iloc[0].to_dict()
    members = data.members[data.members["ring_id"] == ring_id]
    idents = data.identifiers[data.identifiers["ring_id"] == ring_id]
    params = json.loads(data.run.get("params_json") or "{}")
    graph = ring_graph(data, ring_id)
    shape = structure(graph)
    financed = pd.to_numeric(members["loan_amount"], errors="coerce").sum()
    unpaid = int(members["first_unpaid"].fillna(False).astype(bool).sum())
    sections = [
        Section("Header", [
            f"Ring {ring_id}, detection run {data.run.get('run_id')} "
            f"({_fmt(data.run.get('started_at'))}).",
            f"Method: {ring.get('method', '')}; strong-link threshold "
            f"{params.get('strong_threshold')}, hub cap {params.get('hub_cap')}, Leiden "
            f"resolution {params.get('leiden_resolution')}, seed {params.get('seed')}.",
            "Status: candidate (not yet dispositioned). Investigator: ______  "
            "Approver: ______",
            f"First seen {_fmt(ring.get('first_seen'))}; "
            f"last seen {_fmt(ring.get('last_seen'))}; size in the previous run "
            f"{ring.get('previous_size') or 'n/a (new ring)'}."]),
        Section("Summary", [
            f"Score {ring.get('score')} of 100 (alert threshold {alert_threshold}); "
            f"{len(members)} applications by {ring.get('persons')} applicants at "
            f"{ring.get('dealers')} dealers through {ring.get('agents')} agents.",
            f"Financed (loan amounts): CNY {financed:,.0f}. First installments unpaid: "
            f"{unpaid}. Known fraud labels: {int((members['label'] == 'fraud').sum())}.",
            "Disbursed and outstanding amounts and collection stages are not in the graph "
            "yet; see the servicing system."]),
        Section("Why flagged", [f"{p:+.1f}  {t}" for p, t in zip(
            ring.get("reason_points") or [], ring.get("reasons") or [], strict=False)] + [
            f"Structure: {ring.get('size')} members, density {ring.get('density')}, "
            f"{ring.get('shared_identifiers')} shared identifiers of "
            f"{ring.get('shared_kinds')} kinds, window {ring.get('window_days')} days; "
            f"{shape['components']} component(s); most central: "
            + ", ".join(f"{n} ({c})" for n, c in shape["central"][:3]) + ".",
            _base_rates(data.extra.get("base_rates") or {}, members)]),
        Section("Members (masked)", table=(
            ["application", "applicant", "submitted", "dealer", "agent", "product", "loan",
             "price", "model", "status", "1st unpaid", "label"],
            [[_fmt(r.application_id), _fmt(r.applicant), _fmt(r.submitted_at)[:16],
              _fmt(r.dealer_id), _fmt(r.sales_agent_id), _fmt(r.product),
              _fmt(r.loan_amount), _fmt(r.vehicle_price), _fmt(r.vehicle_model),
              _fmt(r.status), _fmt(r.first_unpaid), _fmt(r.label)]
             for r in members.itertuples()])),
        Section("Shared-identifier matrix", table=_matrix(idents, members)),
        Section("Timeline", table=(["when", "event"], _timeline(members))),
        Section("Ring graph", picture=picture_png(graph, f"Ring {ring_id}")),
        Section("Dealer and agent concentration", table=_concentration(members, concentration)),
        Section("Narrative", [_narrative(ring, members)]),
        Section("Disposition and recommended actions",
                _recommendations(float(ring.get("score") or 0), alert_threshold)),
        Section("Approvals and audit appendix", [
            "Confirmation as fraud requires a maker and a different checker.",
            f"Data snapshot: detection run {data.run.get('run_id')} started "
            f"{_fmt(data.run.get('started_at'))}.",
            "Parameters: " + json.dumps(params, ensure_ascii=False, sort_keys=True)[:1500]]),
    ]
    return sections


def _base_rates(base: dict, members: pd.DataFrame) -> str:
    """The ring's fraud-label and first-payment-default rates against the portfolio's."""
    if not base.get("applications"):
        return "Portfolio base rates: not available."
    fraud = (members["label"] == "fraud").mean()
    judged = members["first_unpaid"].dropna()
    ring_fpd = f"{judged.astype(bool).mean():.0%}" if len(judged) else "n/a"
    base_fpd = f"{base['unpaid'] / base['due']:.1%}" if base.get("due") else "n/a"
    return (f"Against the portfolio: fraud labels {fraud:.0%} in the ring vs "
            f"{base['fraud'] / base['applications']:.1%} overall; first-payment default "
            f"{ring_fpd} vs {base_fpd}.")


def _matrix(idents: pd.DataFrame, members: pd.DataFrame) -> Table:
    apps = list(members["application_id"])
    when = dict(zip(members["application_id"], members["submitted_at"].astype(str),
                    strict=True))
    rows = []
    for (_, rows_for_key) in idents.groupby("key", sort=False):
        first = rows_for_key.iloc[0]
        holders = set(rows_for_key["application_id"])
        dates = sorted(when[a][:10] for a in holders if a in when)
        rows.append([f"{first['kind']} {first['shown']}"[:40], str(first["degree"]),
                     dates[0] if dates else "", dates[-1] if dates else ""]
                    + ["x" if a in holders else "" for a in apps])
    return ["identifier", "apps in portfolio", "first", "last"] + [a[-6:] for a in apps], rows


def _timeline(members: pd.DataFrame) -> list[list[str]]:
    events = [(str(r.submitted_at)[:16], f"{r.application_id} submitted at {r.dealer_id}")
              for r in members.itertuples()]
    events += [(str(r.first_due)[:10], f"{r.application_id} first installment unpaid")
               for r in members.itertuples() if r.first_unpaid]
    return [[when, what] for when, what in sorted(events)]


def _concentration(members: pd.DataFrame, portfolio: pd.DataFrame | None) -> Table:
    rows = []
    for column, title in (("dealer_id", "dealer"), ("sales_agent_id", "agent")):
        for value, count in members[column].value_counts().items():
            total = fraud = ""
            if portfolio is not None and len(portfolio):
                mine = portfolio[portfolio[column] == value]
                total, fraud = str(int(mine["n"].sum())), str(int(mine["fraud"].sum()))
            rows.append([title, str(value), str(count), total, fraud])
    return ["kind", "id", "in ring", "in portfolio", "fraud labels in portfolio"], rows


def _narrative(ring: dict, members: pd.DataFrame) -> str:
    dealers = ", ".join(sorted(set(members["dealer_id"].dropna())))
    start = str(members["submitted_at"].min())[:10]
    end = str(members["submitted_at"].max())[:10]
    top = (ring.get("reasons") or ["no specific evidence"])[0]
    return (f"Who: {ring.get('persons')} applicants in {len(members)} applications. "
            f"Where: {dealers}. When: {start} to {end}. What links them: "
            f"{ring.get('shared_identifiers')} shared identifiers. Why it matters: {top}.")


# ------------------------------------------------------------------------- renderers


def render_html(sections: list[Section], title: str) -> str:
    parts = [f"<!doctype html><html lang='zh'><head><meta charset='utf-8'>"
             f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;"
             f"max-width:1100px;margin:2em auto}}table{{border-collapse:collapse;"
             f"font-size:12px}}td,th{{border:1px solid #ccc;padding:2px 5px}}</style>"
             f"</head><body><h1>{html.escape(title)}</h1>"]
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        parts.extend(f"<p>{html.escape(p)}</p>" for p in section.paragraphs)
        if section.table:
            head, rows = section.table
            parts.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head)
                         + "</tr>")
            parts.extend("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row)
                         + "</tr>" for row in rows)
            parts.append("</table>")
        if section.picture:
            data = base64.b64encode(section.picture).decode()
            parts.append(f"<img alt='ring graph' src='data:image/png;base64,{data}'>")
    parts.append("</body></html>")
    return "".join(parts)


def render_pdf(sections: list[Section], title: str, path: Path) -> None:
    """PDF with reportlab; the built-in STSong-Light CID font renders Chinese."""
    import io
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, TableStyle
    from reportlab.platypus import Table as PdfTable

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    styles = getSampleStyleSheet()
    for name in ("Normal", "Heading1", "Heading2"):
        styles[name].fontName = "STSong-Light"
    story = [Paragraph(escape(title), styles["Heading1"])]
    for section in sections:
        story.append(Paragraph(escape(section.title), styles["Heading2"]))
        story.extend(Paragraph(escape(p), styles["Normal"]) for p in section.paragraphs)
        if section.table and section.table[1]:
            head, rows = section.table
            table = PdfTable([head] + rows, repeatRows=1)
            table.setStyle(TableStyle([
                ("FONT", (0, 0), (-1, -1), "STSong-Light", 6),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke)]))
            story.append(table)
        if section.picture:
            story.append(Image(io.BytesIO(section.picture), width=420, height=330))
        story.append(Spacer(1, 8))
    SimpleDocTemplate(str(path), pagesize=landscape(A4), title=title).build(story)


def write_ring_reports(data: RunData, out: Path, fmt: str, ring_ids: list[str],
                       concentration: pd.DataFrame | None = None,
                       alert_threshold: float = 50.0) -> list[Path]:
    """One file per ring in ``fmt`` ('html' or 'pdf')."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for ring_id in ring_ids:
        sections = ring_sections(data, ring_id, concentration, alert_threshold)
        title = f"Ring report {ring_id}"
        path = out / f"ring-{ring_id}.{fmt}"
        if fmt == "html":
            path.write_text(render_html(sections, title), encoding="utf-8")
        elif fmt == "pdf":
            render_pdf(sections, title, path)
        else:
            raise ValueError(f"unknown report format {fmt!r}; expected html or pdf")
        paths.append(path)
    return paths
