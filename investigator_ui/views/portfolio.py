"""Portfolio: funnel, tier mix, delinquency by collection stage, and approval, fraud and
delinquency rates cut by graph (ring) risk, as bar charts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from api.roles import Permission
from investigator_ui import session, tables
from investigator_ui.client import ConsoleError


def _bars(title_key: str, counts: dict[str, float]) -> None:
    st.subheader(session.tr(title_key))
    if not counts:
        st.caption(session.tr("no_data"))
        return
    # Keep the API's order (the funnel is ordered by stage), not alphabetical.
    data = pd.DataFrame({"key": list(counts), "value": list(counts.values())})
    st.bar_chart(data, x="key", y="value", x_label="", y_label="", sort=False)


session.require(Permission.READ_PORTFOLIO)
st.header(session.tr("page_portfolio"))
try:
    figures = session.client().portfolio(session.token())
except ConsoleError as error:
    session.show_error(error)
    st.stop()

funnel_col, tier_col = st.columns(2)
with funnel_col:
    _bars("funnel", figures.get("funnel") or {})
with tier_col:
    _bars("tier_mix", figures.get("tier_mix") or {})

st.subheader(session.tr("delinquency_by_stage"))
stages = figures.get("delinquency_by_stage") or {}
if stages:
    # stage -> {measure: value}: one group of bars per stage.
    st.bar_chart(pd.DataFrame.from_dict(stages, orient="index"), stack=False)
    st.dataframe(pd.DataFrame.from_dict(stages, orient="index"), width="stretch")
else:
    st.caption(session.tr("no_data"))

st.subheader(session.tr("by_ring_risk"))
bands = figures.get("by_ring_risk") or []
if bands:
    rates = ("approval_rate", "fraud_rate", "delinquency_rate")
    data = pd.DataFrame(bands).set_index("key")[list(rates)]
    st.bar_chart(data.rename(columns=lambda c: session.tr(f"col_{c}")), stack=False,
                 x_label="", y_label="")
    st.dataframe(tables.frame(bands, ("key", "applications", "loans", "delinquent", *rates)),
                 hide_index=True, width="stretch")
else:
    st.caption(session.tr("no_data"))
