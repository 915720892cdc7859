"""A ring's report: one button per format asks the API for the file, then a download
button hands it over, or the page says why the API refused.

The file is asked for in the button's callback, inside the user's session, so a refusal
(403, an expired token, a ring no longer served) is shown on the page with the API's
problem text. A download button fed by a callable, fetched only when pressed, ran outside
the session and, when the API refused, left only Streamlit's generic "failed to generate
file" under the button, without the reason. Only the last file asked for is kept.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from investigator_ui import session
from investigator_ui.client import ConsoleError

#: Report formats the API serves (rings/download.py), with the media type and file ending
#: the browser is given. CSV is a ZIP of tables.
REPORT_FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("application/zip", "csv.zip"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "json": ("application/json", "json"),
    "graphml": ("application/graphml+xml", "graphml"),
    "gexf": ("application/gexf+xml", "gexf"),
    "html": ("text/html; charset=utf-8", "html"),
    "pdf": ("application/pdf", "pdf"),
}
#: Session keys: the last report fetched ({ring_id, format, data, file_name, mime}) and
#: the last refusal ({ring_id, format, text}).
REPORT_KEY = "ring_report"
REPORT_ERROR_KEY = "ring_report_error"


def file_name(ring_id: str, fmt: str) -> str:
    return f"ring-{ring_id}.{REPORT_FORMATS[fmt][1]}"


def _fetch(ring_id: str, fmt: str) -> None:
    """Ask the API for one report (the export is audited there); keep it or the refusal."""
    st.session_state[REPORT_KEY] = None
    st.session_state[REPORT_ERROR_KEY] = None
    try:
        report = session.client().ring_report(session.token(), ring_id, fmt)
    except ConsoleError as error:
        st.session_state[REPORT_ERROR_KEY] = {
            "ring_id": ring_id, "format": fmt,
            "text": session.tr("report_failed", format=fmt.upper(), title=error.title,
                               status=error.status, detail=error.detail)}
        return
    st.session_state[REPORT_KEY] = {"ring_id": ring_id, "format": fmt, "data": report.data,
                                    "file_name": file_name(ring_id, fmt),
                                    "mime": REPORT_FORMATS[fmt][0]}


def _for(ring_id: str, key: str) -> dict[str, Any] | None:
    kept = st.session_state.get(key)
    return kept if isinstance(kept, dict) and kept.get("ring_id") == ring_id else None


def show_refusal(ring_id: str) -> None:
    """The API's answer to the last report asked for of this ring, if it refused."""
    refused = _for(ring_id, REPORT_ERROR_KEY)
    if refused:
        st.error(refused["text"])


def download_buttons(ring_id: str) -> None:
    """One button per format; the file or the API's refusal below them."""
    st.subheader(session.tr("export_report"))
    columns = st.columns(len(REPORT_FORMATS))
    for column, fmt in zip(columns, REPORT_FORMATS, strict=True):
        column.button(fmt.upper(), key=f"ring_report_{fmt}", on_click=_fetch,
                      args=(ring_id, fmt))
    show_refusal(ring_id)
    report = _for(ring_id, REPORT_KEY)
    if report:
        st.download_button(session.tr("save_report", file_name=report["file_name"]),
                           data=report["data"], file_name=report["file_name"],
                           mime=report["mime"], key="ring_report_download", type="primary",
                           on_click="ignore", icon=":material/download:")
