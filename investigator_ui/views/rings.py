"""Rings: the latest detection run's rings with filters; one ring's graph, members, shared
identifiers, reasons, timeline and history; its report in every format."""

from __future__ import annotations

from typing import Any

import streamlit as st

from api.roles import Permission
from investigator_ui import graph_view, reports, reveal, ring_panel, session, tables
from investigator_ui.client import ConsoleError

PREFIX = "ring"
PAGE_SIZE = 25
SORTS = ("score", "size", "last_seen")
#: Ring statuses the API filters on; "" is any.
STATUSES = ("", "candidate", "confirmed_fraud")
SUMMARY = ("ring_id", "score", "size", "status", "first_seen", "last_seen", "dealers",
           "agents", "reason_codes")
MEMBERS = ("application_id", "applicant", "dealer_id", "agent_id", "submitted_at", "status",
           "fraud_label", "tier", "score")
RING_KEY, DEALER_FILTER_KEY = session.RING_KEY, session.RINGS_DEALER_KEY


def _filters() -> dict[str, Any]:
    with st.form("rings_filters"):
        score_col, size_col, status_col, dealer_col, sort_col = st.columns(5)
        # Ring scores are points, 0-100 (rings/config.py).
        min_score = score_col.slider(session.tr("min_score"), 0, 100, 0, 5,
                                     key="rings_min_score")
        min_size = size_col.number_input(session.tr("min_size"), min_value=1, max_value=1000,
                                         value=1, step=1, key="rings_min_size")
        status = status_col.selectbox(session.tr("col_status"), STATUSES, key="rings_status",
                                      format_func=lambda s: session.tr(f"ring_status_{s}"))
        dealer = dealer_col.text_input(session.tr("col_dealer_id"), key=DEALER_FILTER_KEY)
        sort = sort_col.selectbox(session.tr("sort_by"), SORTS, key="rings_sort",
                                  format_func=lambda s: session.tr(f"sort_{s}"))
        page = st.number_input(session.tr("page"), min_value=1, value=1, step=1,
                               key="rings_page")
        st.form_submit_button(session.tr("apply_filters"), key="rings_apply")
    return {"min_score": min_score or None,
            "min_size": int(min_size) if min_size > 1 else None,
            "status": status or None, "dealer_id": dealer.strip() or None, "sort": sort,
            "page": int(page), "size": PAGE_SIZE}


def _summary_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**item, "reason_codes": ", ".join(r["code"] for r in item.get("reasons") or [])}
            for item in items]


def _ring_list() -> list[str]:
    """The filtered table; the ring ids shown, in order."""
    try:
        listing = session.client().rings(session.token(), **_filters())
    except ConsoleError as error:
        session.show_error(error)
        st.stop()
    items = listing.get("items") or []
    st.caption(session.tr("rings_total", shown=len(items), total=listing.get("total", 0)))
    if not items:
        st.info(session.tr("no_rings"))
        return []
    st.dataframe(tables.frame(_summary_rows(items), SUMMARY), hide_index=True, width="stretch")
    return [str(item["ring_id"]) for item in items]


def _detail(ring_id: str) -> None:
    try:
        ring = session.client().ring(session.token(), ring_id)
    except ConsoleError as error:
        session.show_error(error)
        # A report asked for just before the ring went away failed too: say so as well.
        reports.show_refusal(ring_id)
        return
    score_col, size_col, status_col = st.columns(3)
    score_col.metric(session.tr("col_score"), f"{float(ring.get('score') or 0):.2f}")
    size_col.metric(session.tr("col_size"), ring.get("size"))
    status_col.metric(session.tr("col_status"), ring.get("status") or "—")
    st.subheader(session.tr("reasons"))
    st.dataframe(tables.frame(ring.get("reasons") or [], ("code", "text")), hide_index=True,
                 width="stretch")
    _graph(ring)
    st.subheader(session.tr("members"))
    # The member's "label" is its fraud label, not a node label: its own column name.
    members = [{**m, "fraud_label": m.get("label")} for m in ring.get("members") or []]
    st.dataframe(tables.frame(members, MEMBERS), hide_index=True, width="stretch")
    if members and session.can(Permission.REVEAL_PII):
        _reveal_member([str(m["application_id"]) for m in members])
    st.subheader(session.tr("shared_identifiers"))
    shared = [{**s, "applications": ", ".join(s.get("applications") or [])}
              for s in ring.get("shared_identifiers") or []]
    st.dataframe(tables.frame(shared, ("kind", "display", "applications")), hide_index=True,
                 width="stretch")
    st.subheader(session.tr("timeline"))
    ring_panel.timeline(ring)
    if session.can(Permission.EXPORT_REPORTS):
        reports.download_buttons(ring_id)


def _reveal_member(application_ids: list[str]) -> None:
    # Names stay masked in the table; one is shown in clear only through the audited reveal.
    with st.expander(session.tr("reveal_member")):
        chosen = st.selectbox(session.tr("col_application_id"), application_ids,
                              key="ring_reveal_member")
        reveal.form("ring_", f"Application:{chosen}")


def _graph(ring: dict[str, Any]) -> None:
    st.subheader(session.tr("ring_graph"))
    members = [f"Application:{m['application_id']}"
               for m in ring.get("members") or []]
    view = ring.get("graph") or {"nodes": [], "edges": []}
    graph_view.show(PREFIX, f"Ring:{ring['ring_id']}", view, members)
    graph_view.render(PREFIX)


session.require(Permission.READ_RINGS)
st.header(session.tr("page_rings"))
shown = _ring_list()
chosen = st.session_state.get(RING_KEY)
# A ring chosen elsewhere (the Dealers page) stays offered even if off this page.
options = shown + ([chosen] if chosen and chosen not in shown else [])
if not options:
    st.stop()
if chosen not in options:
    st.session_state.pop(RING_KEY, None)
ring_id = st.selectbox(session.tr("open_ring"), options, key=RING_KEY)
if ring_id:
    _detail(ring_id)
