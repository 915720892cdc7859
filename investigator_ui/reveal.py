"""The audited reveal of one personal value: a reason, then the API's clear answer.

Search reveals the identifier it found; the Rings page a member applicant's name. The API
writes the audit event (with the reason) before it answers, so nothing is shown unaudited.
"""

from __future__ import annotations

import streamlit as st

from investigator_ui import session
from investigator_ui.client import ConsoleError

MIN_REASON = 5


def _reveal(prefix: str, node: str) -> None:
    reason = (st.session_state.get(f"{prefix}reveal_reason") or "").strip()
    if len(reason) < MIN_REASON:
        session.flash("error", session.tr("reason_required"))
        return
    try:
        st.session_state[f"{prefix}revealed"] = session.client().reveal(
            session.token(), node, reason)
    except ConsoleError as error:
        session.flash("error", session.tr("error", title=error.title, status=error.status,
                                          detail=error.detail))


def form(prefix: str, node: str) -> None:
    """Reason box and button for ``node`` ('Label:key'); the clear value once revealed.

    ``prefix`` keeps each page's widgets and answer apart ("" for Search, whose keys the
    tests and saved sessions already use).
    """
    st.text_input(session.tr("reveal_reason"), key=f"{prefix}reveal_reason")
    st.button(session.tr("reveal"), key=f"{prefix}reveal_submit", on_click=_reveal,
              args=(prefix, node))
    revealed = st.session_state.get(f"{prefix}revealed")
    if revealed and revealed["node"] == node:
        st.code(revealed["value"], language=None)
        st.caption(session.tr("revealed_audit", event=revealed["audit_event"]))


def forget(prefix: str) -> None:
    """Drop a revealed value, e.g. when the page shows another entity."""
    st.session_state[f"{prefix}revealed"] = None
