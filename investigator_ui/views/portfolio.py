"""Portfolio: funnel, tier mix, delinquency by collection stage, the stages crossed with
graph (ring) risk, and approval, fraud and delinquency rates cut by ring risk, as bar
charts with their tables."""

from __future__ import annotations

from typing import Any

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


STAGE_BAND = ("band", "stage", "loans", "band_loans", "share", "overdue_amount")


def _field_name(text: str) -> str:
    """``text`` without the characters Vega-Lite reads as a field path."""
    return "".join(ch for ch in text if ch not in "'\".[]\\")


def _stage_by_ring_risk(cells: list[dict[str, Any]]) -> None:
    """Each band's loans spread over the collection ladder: shares, so a small high-risk
    band compares with the large no-ring one; counts and amounts in the table."""
    st.subheader(session.tr("stage_by_ring_risk"))
    if not cells:
        st.caption(session.tr("no_data"))
        return
    shown = [{**c, "band": session.tr(f"band_{c['band'].replace(' ', '_')}"),
              "stage": session.tr(f"stage_{c['stage']}")} for c in cells]
    # Vega-Lite reads quotes, dots and brackets in a field name as a path and then draws
    # nothing ("band's"): the shares go in a plain column, their title in the axis label.
    band = _field_name(session.tr("col_band"))
    data = pd.DataFrame({"stage": [c["stage"] for c in shown], band: [c["band"] for c in shown],
                         "share": [c["share"] for c in shown]})
    # The API sends the ladder in order: keep it (sort=False), one bar per band.
    st.bar_chart(data, x="stage", y="share", color=band, stack=False, sort=False, x_label="",
                 y_label=session.tr("col_share"))
    st.dataframe(tables.frame(shown, STAGE_BAND), hide_index=True, width="stretch")


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
    # Loans per stage in the API's ladder order; amounts are another scale, so they stay in
    # the table rather than sharing the chart's axis.
    labels = [session.tr(f"stage_{stage}") for stage in stages]
    st.bar_chart(pd.DataFrame({"stage": labels,
                               "loans": [cell["loans"] for cell in stages.values()]}),
                 x="stage", y="loans", x_label="", y_label=session.tr("col_loans"), sort=False)
    st.dataframe(pd.DataFrame([{"stage": label, **cell}
                               for label, cell in zip(labels, stages.values(), strict=True)]),
                 hide_index=True, width="stretch")
else:
    st.caption(session.tr("no_data"))

_stage_by_ring_risk(figures.get("stage_by_ring_risk") or [])

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
