"""Review queue: live cases riskiest first then by SLA, escalations flagged; filter,
assign, open, decide."""

from __future__ import annotations

from typing import Any

import streamlit as st

from api.roles import Permission
from investigator_ui import case_actions, session, tables
from investigator_ui.client import ConsoleError

COLUMNS = ("case_id", "application_id", "kind", "status", "escalated", "assignee", "due_at",
           "sla_state", "risk_points")
#: Filter choices; "" is any. SLA states are lifecycle.sla.SlaState's.
STATUSES = ("", "open", "in_progress")
SLA_STATES = ("", "ok", "warning", "breached", "escalated")
ASSIGNEES = ("", "me", "unassigned")


def _selected() -> str | None:
    return st.session_state.get("queue_case")


def _filters() -> dict[str, Any]:
    status_col, sla_col, who_col, escalated_col = st.columns(4, vertical_alignment="bottom")
    return {
        "status": status_col.selectbox(session.tr("col_status"), STATUSES, key="queue_status",
                                       format_func=lambda s: session.tr(f"case_status_{s}")),
        "sla_state": sla_col.selectbox(session.tr("col_sla_state"), SLA_STATES,
                                       key="queue_sla",
                                       format_func=lambda s: session.tr(f"sla_{s}")),
        "assignee": who_col.selectbox(session.tr("col_assignee"), ASSIGNEES,
                                      key="queue_assignee",
                                      format_func=lambda s: session.tr(f"assignee_{s}")),
        "escalated": escalated_col.checkbox(session.tr("escalated_only"),
                                            key="queue_escalated"),
    }


def _matching(cases: list[dict[str, Any]], filters: dict[str, Any],
              username: str) -> list[dict[str, Any]]:
    """The cases the filters keep, in the order given."""
    def keep(case: dict[str, Any]) -> bool:
        who = filters.get("assignee")
        return ((not filters.get("status") or case.get("status") == filters["status"])
                and (not filters.get("sla_state")
                     or case.get("sla_state") == filters["sla_state"])
                and (who != "me" or case.get("assignee") == username)
                and (who != "unassigned" or not case.get("assignee"))
                and (not filters.get("escalated") or bool(case.get("escalated_to"))))

    return [case for case in cases if keep(case)]


def _rows(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # The flag reads who the case went up to; the SLA sweep escalates to the same desk.
    return [{**c, "escalated": session.tr("escalated_to", to=c["escalated_to"])
             if c.get("escalated_to") else ""} for c in cases]


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

me = session.user()
shown = _matching(cases, _filters(), me.username if me else "")
st.caption(session.tr("queue_total", shown=len(shown), total=len(cases),
                      escalated=sum(bool(c.get("escalated_to")) for c in cases)))
if not shown:
    st.info(session.tr("queue_none_match"))
    st.stop()
st.dataframe(tables.frame(_rows(shown), COLUMNS), hide_index=True, width="stretch")
by_id = {c["case_id"]: c for c in shown}
if _selected() not in by_id:
    st.session_state.pop("queue_case", None)
case_id = st.selectbox(session.tr("case"), list(by_id), key="queue_case",
                       format_func=lambda c: f"{c} · {by_id[c]['application_id']} · "
                                             f"{by_id[c]['status']}"
                                             + (f" · {session.tr('col_escalated')}"
                                                if by_id[c].get("escalated_to") else ""))
left, right = st.columns(2)
with left:
    case_actions.assign_button("queue", "queue_case")
if right.button(session.tr("open_application"), key="queue_open"):
    st.session_state[session.APP_ID_KEY] = by_id[case_id]["application_id"]
    st.switch_page("views/application.py")

case_actions.decide_form("queue", "queue_case")
