"""Deciding a review case, shared by the queue and the application page: confirm fraud,
clear, suspicious-not-proven, or escalate to a supervisor, always with a note.

Widgets are keyed ``<prefix>_outcome`` / ``_disposition`` / ``_note`` / ``_decide``; the case
id is read from session state under ``case_key`` when the button is pressed, so a case
chosen in the same interaction counts.
"""

from __future__ import annotations

import streamlit as st

from investigator_ui import session
from investigator_ui.client import ConsoleError

#: Outcome -> the API's dispositions for it (lifecycle.cases.Disposition); escalation
#: closes nothing, so it has none.
OUTCOMES: dict[str, tuple[str, ...]] = {
    "fraud": ("first_party_fraud", "synthetic_identity", "identity_theft",
              "dealer_collusion", "straw_borrower"),
    "clear": ("false_positive", "legitimate_relationship"),
    "not_proven": ("suspicious_not_proven",),
    "escalate": (),
}
#: The API asks for a reason of 3+ characters; the console says so before calling.
MIN_NOTE = 3
#: Session key of the case shown on the application page.
APP_CASE_KEY = "app_case_id"


def _fail(error: ConsoleError) -> None:
    session.flash("error", session.tr("error", title=error.title, status=error.status,
                                      detail=error.detail))


def _assign(case_key: str) -> None:
    case_id, me = st.session_state.get(case_key), session.user()
    if not case_id or me is None:
        return
    try:
        case = session.client().assign(me.token, case_id, me.username)
    except ConsoleError as error:
        _fail(error)
        return
    session.flash("success", session.tr("assigned", case_id=case_id, assignee=case["assignee"]))


def assign_button(prefix: str, case_key: str) -> None:
    """Take the case: an open case must be in progress before it can be closed."""
    st.button(session.tr("assign_to_me"), key=f"{prefix}_assign", on_click=_assign,
              args=(case_key,))


def _decide(prefix: str, case_key: str) -> None:
    case_id = st.session_state.get(case_key)
    note = (st.session_state.get(f"{prefix}_note") or "").strip()
    if not case_id:
        return
    if len(note) < MIN_NOTE:
        session.flash("error", session.tr("note_required"))
        return
    client, token = session.client(), session.token()
    try:
        if st.session_state.get(f"{prefix}_outcome") == "escalate":
            case = client.escalate(token, case_id, note)
            message = session.tr("escalated", case_id=case_id, to=case.get("escalated_to"))
        else:
            closure = client.decide(token, case_id, st.session_state[f"{prefix}_disposition"],
                                    note)
            message = session.tr("decided", case_id=case_id, status=closure["status"])
    except ConsoleError as error:
        _fail(error)
        return
    st.session_state[f"{prefix}_note"] = ""
    session.flash("success", message)


def decide_form(prefix: str, case_key: str) -> None:
    """Outcome, disposition (unless escalating), note and the Decide button."""
    st.subheader(session.tr("decide_case"))
    outcome = st.radio(session.tr("outcome"), list(OUTCOMES), key=f"{prefix}_outcome",
                       horizontal=True, format_func=lambda o: session.tr(f"outcome_{o}"))
    dispositions = OUTCOMES[outcome]
    if st.session_state.get(f"{prefix}_disposition") not in dispositions:
        st.session_state.pop(f"{prefix}_disposition", None)
    if dispositions:
        st.selectbox(session.tr("disposition"), dispositions, key=f"{prefix}_disposition",
                     format_func=lambda d: session.tr(f"disp_{d}"))
    st.text_area(session.tr("note"), key=f"{prefix}_note", max_chars=1000)
    st.button(session.tr("decide"), key=f"{prefix}_decide", type="primary", on_click=_decide,
              args=(prefix, case_key))


def live_case(application_id: str) -> None:
    """The application's live review case, if any, with the decide form."""
    try:
        live = [c for c in session.client().cases(session.token())
                if c["application_id"] == application_id]
    except ConsoleError as error:
        session.show_error(error)
        return
    st.subheader(session.tr("review_case"))
    session.show_flash()
    if not live:
        st.caption(session.tr("no_live_case"))
        return
    case = live[0]
    st.session_state[APP_CASE_KEY] = case["case_id"]
    st.caption(session.tr("case_line", case_id=case["case_id"], status=case["status"],
                          assignee=case.get("assignee") or "—", due=case.get("due_at")))
    if case["status"] == "open":
        assign_button("app_case", APP_CASE_KEY)
    decide_form("app_case", APP_CASE_KEY)
