"""Graph explorer: the neighbourhood of any node reference, expanded node by node."""

from __future__ import annotations

import streamlit as st

from api.roles import Permission
from investigator_ui import graph_view, session

PREFIX = "explorer"

session.require(Permission.EXPLORE_GRAPH)
st.header(session.tr("page_graph"))
with st.form("explorer_form"):
    node = st.text_input(session.tr("node_ref"), key="explorer_node",
                         placeholder="Application:APP000001")
    hops = st.number_input(session.tr("hops"), min_value=1, max_value=3, value=1, step=1,
                           key="explorer_hops")
    shown = st.form_submit_button(session.tr("show"), key="explorer_submit")
if shown and node.strip():
    graph_view.load(PREFIX, node.strip(), hops=int(hops))
graph_view.render(PREFIX)
