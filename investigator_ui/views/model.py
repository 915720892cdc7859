"""Model: the champion's metrics beside its baselines and the challenger, the score
distribution month by month, and drift (PSI) against the training period."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from api.roles import Permission
from investigator_ui import session, tables
from investigator_ui.client import ConsoleError

METRICS = ("roc_auc", "average_precision", "recall_at_1pct")
#: PSI above this is the usual "significant shift" line; the page draws it as a caption.
PSI_ALERT = 0.25


def _metrics(model: dict[str, Any], title_key: str) -> None:
    st.subheader(session.tr(title_key, version=model.get("version"), kind=model.get("kind")))
    st.caption(session.tr("trained_at", at=model.get("trained_at")))
    figures = model.get("metrics") or {}
    for column, metric in zip(st.columns(len(METRICS)), METRICS, strict=True):
        value = figures.get(metric)
        column.metric(session.tr(f"col_{metric}"), "—" if value is None else f"{value:.3f}")


def _comparison(champion: dict[str, Any]) -> None:
    rows = champion.get("comparison") or []
    st.subheader(session.tr("vs_baselines"))
    if not rows:
        st.caption(session.tr("no_data"))
        return
    data = pd.DataFrame(rows).set_index("model")[list(METRICS)]
    st.bar_chart(data.rename(columns=lambda m: session.tr(f"col_{m}")), stack=False)
    st.dataframe(tables.frame(rows, ("model", *METRICS)), hide_index=True, width="stretch")


def _distribution(periods: list[dict[str, Any]]) -> None:
    st.subheader(session.tr("score_distribution"))
    if not periods:
        st.caption(session.tr("no_data"))
        return
    data = pd.DataFrame(periods).set_index("period")
    scores = data[["mean", "p50", "p90"]].rename(columns=lambda c: session.tr(f"col_{c}"))
    st.line_chart(scores, x_label="", y_label="")
    shares = data[["share_tier_b", "share_tier_c"]].rename(
        columns=lambda c: session.tr(f"col_{c}"))
    st.line_chart(shares, x_label="", y_label="")


def _drift(rows: list[dict[str, Any]]) -> None:
    st.subheader(session.tr("drift"))
    if not rows:
        st.caption(session.tr("no_data"))
        return
    data = pd.DataFrame(rows).set_index("period")[["psi"]]
    st.line_chart(data, x_label="", y_label="PSI")
    worst = data["psi"].max()
    (st.warning if worst > PSI_ALERT else st.caption)(
        session.tr("psi_note", worst=f"{worst:.3f}", limit=PSI_ALERT))


session.require(Permission.READ_MODEL)
st.header(session.tr("page_model"))
try:
    registry = session.client().model(session.token())
except ConsoleError as error:
    if error.status == 404:  # no model trained yet: a state, not a failure
        st.info(session.tr("no_model"))
    else:
        session.show_error(error)
    st.stop()

champion = registry.get("champion") or {}
_metrics(champion, "champion")
_comparison(champion)
if registry.get("challenger"):
    _metrics(registry["challenger"], "challenger")
_distribution(registry.get("score_distribution") or [])
_drift(registry.get("drift") or [])
