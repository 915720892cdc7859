"""Sign in: exchange username and password for a token; nothing else is reachable before."""

from __future__ import annotations

import streamlit as st

from investigator_ui import session
from investigator_ui.client import ConsoleError

ERROR_KEY = "sign_in_error"


def _sign_in() -> None:
    # A callback, so the navigation built on the next line of app.py already sees the user.
    try:
        signed = session.client().sign_in(st.session_state.get("username", ""),
                                          st.session_state.get("password", ""))
    except ConsoleError as error:
        st.session_state[ERROR_KEY] = session.tr("sign_in_failed", detail=error.detail)
        return
    st.session_state[ERROR_KEY] = None
    st.session_state[session.USER_KEY] = signed
    st.session_state["password"] = ""  # never keep the password around


st.title(session.tr("app_title"))
with st.form("sign_in_form"):
    st.text_input(session.tr("username"), key="username")
    st.text_input(session.tr("password"), type="password", key="password")
    st.form_submit_button(session.tr("sign_in"), key="sign_in_submit", on_click=_sign_in)
if st.session_state.get(ERROR_KEY):
    st.error(st.session_state[ERROR_KEY])
