"""A ring's timeline and history, shown on the Rings page and beside an application that
belongs to a ring."""

from __future__ import annotations

from typing import Any

import streamlit as st

from graph.schema import Label
from investigator_ui import session, tables
from investigator_ui.client import ConsoleError


def timeline(ring: dict[str, Any]) -> None:
    """Applications per day as bars, then the events and how the ring grew run by run."""
    events = ring.get("timeline") or []
    if events:
        st.bar_chart(tables.counts_by_day(events, "date"), x="date", y="count", x_label="",
                     y_label="")
        st.dataframe(tables.frame(events, ("date", "application_id", "event")),
                     hide_index=True, width="stretch")
    else:
        st.caption(session.tr("no_data"))
    history = ring.get("history") or []
    if history:
        st.caption(session.tr("ring_history"))
        st.dataframe(tables.frame(history, ("run_id", "detected_at", "size", "score")),
                     hide_index=True, width="stretch")


def ring_ids_in(graph: dict[str, Any] | None) -> list[str]:
    """The ring ids of the Ring nodes a graph holds, in order, once each."""
    if graph is None:
        return []
    ids = [str(node["props"].get("ring_id")) for node in graph["nodes"].values()
           if node["label"] == Label.RING and node.get("props", {}).get("ring_id")]
    return list(dict.fromkeys(ids))


def timelines(graph: dict[str, Any] | None) -> None:
    """The timeline of each ring the application's graph shows it belongs to."""
    for ring_id in ring_ids_in(graph):
        st.subheader(session.tr("ring_timeline", ring_id=ring_id))
        try:
            ring = session.client().ring(session.token(), ring_id)
        except ConsoleError as error:
            # A ring of an older run is not served by id: say so and go on.
            st.caption(session.tr("error", title=error.title, status=error.status,
                                  detail=error.detail))
            continue
        timeline(ring)
