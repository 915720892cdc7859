"""Review queue: live cases riskiest first then by SLA; assign, open, decide."""

from __future__ import annotations

import streamlit as st

from api.roles import Permission
from investigator_ui import case_actions, session, tables
from investigator_ui.client import ConsoleError

COLUMNS = ("case_id", "application_id", "kind", "status", "assignee", "due_at", "sla_state",
           "risk_points")


def _selected() -> str | None:
    return st.session_state.get("queue_case")


session.require(Permission.WORK_CASES)
st.header(session.tr("page_queue"))
session.show_flash()
try:
    cases = session.client().cases(session.token())
except ConsoleError as error:
    session.show_error(error)
    st.stop()
# The API already orders by risk then SLA; sorting again keeps the promise if it changes.
cases.sort(key=lambda c: (-(c.get("risk_points") or 0), str(c.get("due_at") or "")))
if not cases:
    st.info(session.tr("queue_empty"))
    st.stop()

st.dataframe(tables.frame(cases, COLUMNS), hide_index=True, width="stretch")
by_id = {c["case_id"]: c for c in cases}
if _selected() not in by_id:
    st.session_state.pop("queue_case", None)
case_id = st.selectbox(session.tr("case"), list(by_id), key="queue_case",
                       format_func=lambda c: f"{c} · {by_id[c]['application_id']} · "
                                             f"{by_id[c]['status']}")
left, right = st.columns(2)
with left:
    case_actions.assign_button("queue", "queue_case")
if right.button(session.tr("open_application"), key="queue_open"):
    st.session_state[session.APP_ID_KEY] = by_id[case_id]["application_id"]
    st.switch_page("views/application.py")

case_actions.decide_form("queue", "queue_case")
