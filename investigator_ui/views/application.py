"""One application: status, risk tier and reasons, decisions, history, linked graph."""

from __future__ import annotations

import streamlit as st

from api.roles import Permission
from investigator_ui import graph_view, session, tables
from investigator_ui.client import ConsoleError

PREFIX = "app"

session.require(Permission.READ_APPLICATION)
st.header(session.tr("page_application"))
app_id = st.text_input(session.tr("application_id"), key=session.APP_ID_KEY).strip()
if not app_id:
    st.stop()

client, token = session.client(), session.token()
try:
    risk = client.risk(token, app_id)
    decisions = client.decisions(token, app_id)
    history = client.transitions(token, app_id)
except ConsoleError as error:
    session.show_error(error)
    st.stop()

tier_col, status_col = st.columns(2)
tier_col.metric(session.tr("tier"), risk.get("tier") or "—")
status_col.metric(session.tr("status"), risk.get("status") or "—")

st.subheader(session.tr("reasons"))
if risk.get("reasons"):
    st.dataframe(tables.frame(risk["reasons"], ("code", "text", "points")), hide_index=True,
                 width="stretch")
else:
    st.caption(session.tr("no_reasons"))

st.subheader(session.tr("decisions"))
st.dataframe(tables.frame(decisions, ("decided_at", "decided_by", "outcome", "tier",
                                      "policy_version")), hide_index=True, width="stretch")
st.subheader(session.tr("transitions"))
st.dataframe(tables.frame(history, ("at", "from_state", "to_state", "actor", "reason")),
             hide_index=True, width="stretch")

if session.can(Permission.EXPLORE_GRAPH):
    st.subheader(session.tr("linked_entities"))
    root = f"Application:{app_id}"
    graph = graph_view.current(PREFIX)
    # A new application starts a new picture; the same one keeps what was expanded.
    if graph is None or graph["root"] != root:
        graph_view.load(PREFIX, root)
    graph_view.render(PREFIX)
