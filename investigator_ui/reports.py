"""A ring's report as download buttons, one per format, each fed by the API on click.

The file is fetched only when its button is pressed (``st.download_button`` with a
callable), so drawing the page does not build seven reports, PDF included. The callable
runs on another thread without the session, so the token and client are bound here.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from investigator_ui import session
from investigator_ui.client import ApiClient

#: Report formats the API serves (rings/download.py), with the media type and file ending
#: the browser is given: the button is drawn before the file exists. CSV is a ZIP of tables.
REPORT_FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("application/zip", "csv.zip"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "json": ("application/json", "json"),
    "graphml": ("application/graphml+xml", "graphml"),
    "gexf": ("application/gexf+xml", "gexf"),
    "html": ("text/html; charset=utf-8", "html"),
    "pdf": ("application/pdf", "pdf"),
}


def fetcher(client: ApiClient, token: str, ring_id: str, fmt: str) -> Callable[[], bytes]:
    """The bytes of one report, asked of the API when called (the export is audited)."""

    def fetch() -> bytes:
        return client.ring_report(token, ring_id, fmt).data

    return fetch


def download_buttons(ring_id: str) -> None:
    """One button per format; the API refuses roles without EXPORT_REPORTS anyway."""
    st.subheader(session.tr("export_report"))
    client, token = session.client(), session.token()
    columns = st.columns(len(REPORT_FORMATS))
    for column, (fmt, (media_type, ending)) in zip(columns, REPORT_FORMATS.items(),
                                                   strict=True):
        column.download_button(fmt.upper(), data=fetcher(client, token, ring_id, fmt),
                               file_name=f"ring-{ring_id}.{ending}", mime=media_type,
                               key=f"ring_report_{fmt}", on_click="ignore")
