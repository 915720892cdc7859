"""Dealers: the risk league table of dealers and their sales agents, with their rings."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from api.roles import Permission
from investigator_ui import session, tables
from investigator_ui.client import ConsoleError

PAGE_SIZE = 50
CHART_TOP = 15
DEALERS = ("dealer_id", "name", "risk_score", "applications", "ring_members",
           "ring_member_share", "rings", "fraud_labels", "first_payment_defaults", "ring_ids")
AGENTS = ("dealer_id", "agent_id", "applications", "ring_members")


def _open_ring(dealer_id: str) -> None:
    st.session_state[session.RINGS_DEALER_KEY] = dealer_id
    st.session_state[session.RING_KEY] = st.session_state.get("dealers_ring")


def _chart(dealers: list[dict[str, Any]]) -> None:
    # Risk scores only: the shares (0-1) would vanish beside them; the table has them.
    top = dealers[:CHART_TOP]
    data = pd.DataFrame({"dealer": [d["dealer_id"] for d in top],
                         "risk": [d.get("risk_score") or 0 for d in top]})
    st.bar_chart(data, x="dealer", y="risk", x_label="", y_label=session.tr("col_risk_score"),
                 sort=False)


session.require(Permission.READ_RINGS)
st.header(session.tr("page_dealers"))
page = st.number_input(session.tr("page"), min_value=1, value=1, step=1, key="dealers_page")
try:
    league = session.client().dealers(session.token(), page=int(page), size=PAGE_SIZE)
except ConsoleError as error:
    session.show_error(error)
    st.stop()
dealers = league.get("items") or []
if not dealers:
    st.info(session.tr("no_data"))
    st.stop()

st.subheader(session.tr("dealer_league"))
_chart(dealers)
shown = [{**d, "ring_ids": ", ".join(d.get("ring_ids") or [])} for d in dealers]
st.dataframe(tables.frame(shown, DEALERS), hide_index=True, width="stretch")
st.subheader(session.tr("agent_league"))
st.dataframe(tables.frame(tables.agent_rows(dealers), AGENTS), hide_index=True, width="stretch")

with_rings = {d["dealer_id"]: d for d in dealers if d.get("ring_ids")}
if with_rings:
    st.subheader(session.tr("dealer_rings"))
    dealer_col, ring_col, go_col = st.columns([2, 2, 1], vertical_alignment="bottom")
    dealer_id = dealer_col.selectbox(session.tr("col_dealer_id"), list(with_rings),
                                     key="dealers_dealer")
    if st.session_state.get("dealers_ring") not in with_rings[dealer_id]["ring_ids"]:
        st.session_state.pop("dealers_ring", None)
    ring_col.selectbox(session.tr("open_ring"), with_rings[dealer_id]["ring_ids"],
                       key="dealers_ring")
    if go_col.button(session.tr("open_ring"), key="dealers_open_ring", on_click=_open_ring,
                     args=(dealer_id,)):
        st.switch_page("views/rings.py")
