"""Search: find an entity by kind and value; the API answers with masked values only."""

from __future__ import annotations

import streamlit as st

from api.roles import Permission
from investigator_ui import reveal, session, tables
from investigator_ui.client import LOOKUP_KINDS, ConsoleError

RESULT_KEY = "search_result"


def _search() -> None:
    # The value is sent in a POST body and not kept: only the masked answer is stored.
    value = (st.session_state.get("search_value") or "").strip()
    st.session_state[RESULT_KEY] = None
    reveal.forget("")
    if not value:
        return
    try:
        st.session_state[RESULT_KEY] = session.client().lookup(
            session.token(), st.session_state["search_kind"], value)
    except ConsoleError as error:
        session.flash("error", session.tr("error", title=error.title, status=error.status,
                                          detail=error.detail))


#: Kinds the API's watchlist takes (api.schemas.WatchlistIn).
WATCHLIST_KINDS = ("id_number", "phone", "device", "bank_account")


def _propose_watchlist() -> None:
    # Four eyes: the API records a request that a second person must approve.
    reason = (st.session_state.get("watchlist_reason") or "").strip()
    value = (st.session_state.get("search_value") or "").strip()
    if len(reason) < 5:
        session.flash("error", session.tr("reason_required"))
        return
    try:
        request = session.client().add_to_watchlist(
            session.token(), st.session_state["search_kind"], value, reason)
    except ConsoleError as error:
        session.flash("error", session.tr("error", title=error.title, status=error.status,
                                          detail=error.detail))
        return
    st.session_state["watchlist_reason"] = ""
    session.flash("success", session.tr("watchlist_requested", approval_id=request["approval_id"],
                                        status=request["status"]))


session.require(Permission.LOOKUP_ENTITY)
st.header(session.tr("page_search"))
with st.form("search_form"):
    st.selectbox(session.tr("kind"), LOOKUP_KINDS, key="search_kind",
                 format_func=lambda k: session.tr(f"kind_{k}"))
    st.text_input(session.tr("value"), key="search_value")
    st.form_submit_button(session.tr("search"), key="search_submit", on_click=_search)
session.show_flash()

result = st.session_state.get(RESULT_KEY)
if result:
    node = result["node"]
    st.subheader(session.tr("entity"))
    st.caption(session.tr("masked_note"))
    st.markdown(f"**{node['label']}** · `{node['caption']}`")
    st.json(node.get("props") or {}, expanded=False)
    # Only personal identifiers carry a masked value; only some roles may see it in clear.
    if "masked" in (node.get("props") or {}) and session.can(Permission.REVEAL_PII):
        with st.expander(session.tr("reveal")):
            reveal.form("", node["id"])
    if (session.can(Permission.MANAGE_WATCHLIST)
            and st.session_state.get("search_kind") in WATCHLIST_KINDS):
        with st.expander(session.tr("watchlist_propose")):
            st.text_input(session.tr("watchlist_reason"), key="watchlist_reason")
            st.button(session.tr("watchlist_propose"), key="watchlist_submit",
                      on_click=_propose_watchlist)
    st.subheader(session.tr("linked_applications"))
    st.dataframe(tables.frame(result["applications"],
                              ("application_id", "relationship", "submitted_at", "dealer_id",
                               "status")), hide_index=True, width="stretch")
