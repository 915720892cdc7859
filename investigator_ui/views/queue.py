"""Review queue: live cases riskiest first then by SLA; assign, open, decide."""

from __future__ import annotations

import streamlit as st

from api.roles import Permission
from investigator_ui import session, tables
from investigator_ui.client import ConsoleError

#: Outcome -> the API's dispositions for it (lifecycle.cases.Disposition).
OUTCOMES: dict[str, tuple[str, ...]] = {
    "fraud": ("first_party_fraud", "synthetic_identity", "identity_theft",
              "dealer_collusion", "straw_borrower"),
    "clear": ("false_positive", "legitimate_relationship"),
    "not_proven": ("suspicious_not_proven",),
}
COLUMNS = ("case_id", "application_id", "kind", "status", "assignee", "due_at", "sla_state",
           "risk_points")


def _selected() -> str | None:
    return st.session_state.get("queue_case")


def _assign() -> None:
    case_id, me = _selected(), session.user()
    if not case_id or me is None:
        return
    try:
        case = session.client().assign(me.token, case_id, me.username)
    except ConsoleError as error:
        session.flash("error", session.tr("error", title=error.title, status=error.status,
                                          detail=error.detail))
        return
    session.flash("success", session.tr("assigned", case_id=case_id, assignee=case["assignee"]))


def _decide() -> None:
    case_id = _selected()
    note = (st.session_state.get("queue_note") or "").strip()
    if not case_id:
        return
    if len(note) < 3:  # the API asks for a reason of 3+ characters; say so before calling
        session.flash("error", session.tr("note_required"))
        return
    try:
        closure = session.client().decide(session.token(), case_id,
                                          st.session_state["queue_disposition"], note)
    except ConsoleError as error:
        session.flash("error", session.tr("error", title=error.title, status=error.status,
                                          detail=error.detail))
        return
    st.session_state["queue_note"] = ""
    session.flash("success", session.tr("decided", case_id=case_id, status=closure["status"]))


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
left.button(session.tr("assign_to_me"), key="queue_assign", on_click=_assign)
if right.button(session.tr("open_application"), key="queue_open"):
    st.session_state[session.APP_ID_KEY] = by_id[case_id]["application_id"]
    st.switch_page("views/application.py")

st.subheader(session.tr("decide_case"))
outcome = st.radio(session.tr("outcome"), list(OUTCOMES), key="queue_outcome", horizontal=True,
                   format_func=lambda o: session.tr(f"outcome_{o}"))
if st.session_state.get("queue_disposition") not in OUTCOMES[outcome]:
    st.session_state.pop("queue_disposition", None)
st.selectbox(session.tr("disposition"), OUTCOMES[outcome], key="queue_disposition",
             format_func=lambda d: session.tr(f"disp_{d}"))
st.text_area(session.tr("note"), key="queue_note", max_chars=1000)
st.button(session.tr("decide"), key="queue_decide", type="primary", on_click=_decide)
