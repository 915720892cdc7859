"""One application: status, risk tier and reasons, decisions, history, linked graph."""

from __future__ import annotations

import streamlit as st

from api.roles import Permission
from investigator_ui import case_actions, graph_view, ring_panel, session, tables
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

tier_col, status_col, ring_col, gnn_col = st.columns(4)
tier_col.metric(session.tr("tier"), risk.get("tier") or "—")
status_col.metric(session.tr("status"), risk.get("status") or "—")
scores = {s["source"]: s for s in (risk.get("signals") or {}).get("scores") or []}
for column, source in ((ring_col, "ring"), (gnn_col, "gnn")):
    score = scores.get(source, {}).get("score")
    column.metric(session.tr(f"score_{source}"), "—" if score is None else f"{score:.2f}")

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
    if session.can(Permission.READ_RINGS):
        ring_panel.timelines(graph_view.current(PREFIX))

if session.can(Permission.WORK_CASES):
    case_actions.live_case(app_id)
