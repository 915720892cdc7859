"""The linked-entity graph: drawn with ``st-link-analysis`` (Cytoscape), grown by clicks.

Clicking a node sends the click back to Python (the component's value changes), and the
``on_change`` callback asks the API for that node's 1-hop neighbourhood and merges it in.
A select box of the nodes shown plus an Expand button does the same from the keyboard, and
two more pick the ends of a shortest path. The graph lives in session state under a
per-page key, so it survives reruns and each page keeps its own picture.

Nodes are coloured by kind (their label in ``graph.schema``), bordered by risk, and ring
members (applications linked to a ``Ring`` node, or listed by the ring page) are
highlighted; the last shortest path is drawn thick.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import streamlit as st
from st_link_analysis import Event, NodeStyle, st_link_analysis

from graph.schema import Label, Rel
from investigator_ui import session
from investigator_ui.client import ConsoleError

#: Colour and Material icon per label, so identifier kinds read apart at a glance.
KIND_STYLES: dict[Label, tuple[str, str]] = {
    Label.APPLICATION: ("#f4a261", "description"),
    Label.PERSON: ("#e76f51", "person"),
    Label.PHONE: ("#457b9d", "phone"),
    Label.DEVICE: ("#6d597a", "smartphone"),
    Label.IP: ("#8d99ae", "router"),
    Label.ADDRESS: ("#b5838d", "home"),
    Label.EMPLOYER: ("#588157", "business"),
    Label.BANK_ACCOUNT: ("#bc6c25", "account_balance"),
    Label.VEHICLE: ("#264653", "directions_car"),
    Label.DEALER: ("#2a9d8f", "store"),
    Label.SALES_AGENT: ("#8ab17d", "badge"),
    Label.RING: ("#d00000", "group"),
}
RISK_COLOURS = {"high": "#d00000", "medium": "#f9a03f"}
RING_COLOUR = "#d00000"
PATH_COLOUR = "#1d3557"
EXPAND_LIMIT = 50
#: An application's ring score (0-1) from this value up reads as high risk
#: (lifecycle.portfolio.ring_band); a ring's own score (0-100) from the alert threshold.
HIGH_RING_SCORE = 0.5
RING_ALERT_SCORE = 50.0
CLICK = "node_click"


class StyleRule:
    """A Cytoscape style for any selector; the component takes objects with ``dump()``.

    ``NodeStyle`` selects by label only; risk, ring and path need attribute selectors."""

    def __init__(self, selector: str, style: dict[str, Any]) -> None:
        self.selector = selector
        self.style = style

    def dump(self) -> dict[str, Any]:
        return {"selector": self.selector, "style": self.style}


def _key(prefix: str) -> str:
    return f"{prefix}_graph"


def _choice_key(prefix: str) -> str:
    return f"{prefix}_expand_choice"


def _component_key(prefix: str) -> str:
    return f"{prefix}_graph_view"


def current(prefix: str) -> dict[str, Any] | None:
    value = st.session_state.get(_key(prefix))
    return value if isinstance(value, dict) else None


def empty(root: str, ring_members: list[str] | None = None) -> dict[str, Any]:
    return {"root": root, "nodes": {}, "edges": [], "truncated": False,
            "ring": list(ring_members or []), "path": []}


def merge(graph: dict[str, Any], view: dict[str, Any]) -> dict[str, Any]:
    """Add a neighbourhood answer to the graph; nodes and links already there stay once."""
    for node in view.get("nodes", []):
        graph["nodes"][node["id"]] = node
    seen = {(e["source"], e["target"], e["type"]) for e in graph["edges"]}
    for edge in view.get("edges", []):
        triple = (edge["source"], edge["target"], edge["type"])
        if triple not in seen:
            seen.add(triple)
            graph["edges"].append(edge)
    graph["truncated"] = graph["truncated"] or bool(view.get("truncated"))
    return graph


def risk_of(node: dict[str, Any]) -> str:
    """``high``, ``medium`` or ``low``. Applications: tier C, a fraud label or a ring score
    (0-1) from 0.5 is high, tier B or any ring score medium. Rings: a score (0-100) at the
    alert threshold is high, any other medium."""
    props = node.get("props") or {}
    if node.get("label") == Label.RING:
        return "high" if float(props.get("score") or 0) >= RING_ALERT_SCORE else "medium"
    ring_score = float(props.get("ring_score") or 0)
    if props.get("tier") == "C" or props.get("label") == "fraud" or (
            ring_score >= HIGH_RING_SCORE):
        return "high"
    if props.get("tier") == "B" or ring_score > 0:
        return "medium"
    return "low"


def ring_ids(graph: dict[str, Any]) -> set[str]:
    """Nodes to highlight as the ring: listed members, Ring nodes and their members."""
    marked = set(graph.get("ring") or [])
    marked |= {n for n, node in graph["nodes"].items() if node["label"] == Label.RING}
    marked |= {e["source"] for e in graph["edges"] if e["type"] == Rel.MEMBER_OF}
    return marked


def elements(graph: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The graph in the component's shape: ``{"nodes": [{"data"}], "edges": [{"data"}]}``."""
    ring, path = ring_ids(graph), set(graph.get("path") or [])
    nodes = [{"data": {"id": node_id, "label": node["label"], "caption": node["caption"],
                       "risk": risk_of(node), "ring": "yes" if node_id in ring else "no",
                       "root": "yes" if node_id == graph["root"] else "no",
                       "path": "yes" if node_id in path else "no"}}
             for node_id, node in graph["nodes"].items()]
    edges = [{"data": {"id": f"{e['source']}|{e['type']}|{e['target']}", "label": e["type"],
                       "source": e["source"], "target": e["target"],
                       "path": "yes" if e["source"] in path and e["target"] in path
                       else "no"}}
             for e in graph["edges"]
             if e["source"] in graph["nodes"] and e["target"] in graph["nodes"]]
    return {"nodes": nodes, "edges": edges}


def styles() -> list[Any]:
    """Kind colours and icons first, then risk borders, ring and path on top."""
    kinds: list[Any] = [NodeStyle(label.value, colour, "caption", icon)
                        for label, (colour, icon) in KIND_STYLES.items()]
    rules = [StyleRule(f"node[risk = '{level}']",
                       {"border-width": 4, "border-color": colour})
             for level, colour in RISK_COLOURS.items()]
    # One rule for every edge: EdgeStyle selects by type and warns on each call (0.4.0).
    rules += [StyleRule("edge", {"label": "data(label)", "font-size": 7}),
              StyleRule("node[ring = 'yes']", {"underlay-color": RING_COLOUR,
                                                "underlay-opacity": 0.25,
                                                "underlay-padding": 8}),
              StyleRule("node[root = 'yes']", {"width": 48, "height": 48}),
              StyleRule("edge[path = 'yes']", {"width": 5, "line-color": PATH_COLOUR})]
    return kinds + rules


def load(prefix: str, root: str, hops: int = 1) -> bool:
    """Start the graph at ``root``; False (and the error shown) when the API refuses."""
    try:
        view = session.client().neighbourhood(session.token(), root, hops=hops)
    except ConsoleError as error:
        session.show_error(error)
        return False
    st.session_state[_key(prefix)] = merge(empty(root), view)
    return True


def show(prefix: str, root: str, view: dict[str, Any], ring_members: list[str]) -> None:
    """Start the graph from a view the page already has (a ring's), unless it is shown."""
    graph = current(prefix)
    if graph is None or graph["root"] != root:
        st.session_state[_key(prefix)] = merge(empty(root, ring_members), view)


def expand_node(prefix: str, node_id: str) -> None:
    """Merge the neighbours of ``node_id`` in; an API refusal is flashed, nothing lost."""
    graph = current(prefix)
    if graph is None or node_id not in graph["nodes"]:
        return
    try:
        view = session.client().neighbourhood(session.token(), node_id, hops=1,
                                              limit=EXPAND_LIMIT)
    except ConsoleError as error:
        session.flash("error", session.tr("error", title=error.title, status=error.status,
                                          detail=error.detail))
        return
    st.session_state[_key(prefix)] = merge(graph, view)
    st.session_state[f"{prefix}_last_expanded"] = node_id


def clicked_nodes(event: Any) -> list[str]:
    """The node ids a component event names: a click, or the built-in expand action."""
    if not isinstance(event, dict):
        return []
    data = event.get("data") or {}
    if event.get("action") == CLICK and data.get("target_group") == "nodes":
        return [str(data["target_id"])]
    if event.get("action") == "expand":
        return [str(n) for n in data.get("node_ids") or []]
    return []


def _on_click(prefix: str) -> None:
    """The component's on_change: runs once per new click, not on every rerun."""
    for node_id in clicked_nodes(st.session_state.get(_component_key(prefix))):
        expand_node(prefix, node_id)


def _on_expand_button(prefix: str) -> None:
    # Read from session state, not bound when drawn, so a choice made just now counts.
    node_id = st.session_state.get(_choice_key(prefix))
    if node_id:
        expand_node(prefix, node_id)


def _on_path(prefix: str) -> None:
    graph = current(prefix)
    source = st.session_state.get(f"{prefix}_path_from")
    target = st.session_state.get(f"{prefix}_path_to")
    if graph is None or not source or not target:
        return
    try:
        view = session.client().path(session.token(), source, target)
    except ConsoleError as error:
        session.flash("error", session.tr("error", title=error.title, status=error.status,
                                          detail=error.detail))
        return
    if not view.get("nodes"):
        session.flash("error", session.tr("no_path"))
        graph["path"] = []
        return
    merge(graph, view)
    graph["path"] = [n["id"] for n in view["nodes"]]
    session.flash("success", session.tr("path_found", links=len(view["nodes"]) - 1))


def render(prefix: str) -> None:
    """Draw the graph with its size, the expand control and the shortest-path control."""
    session.show_flash()
    graph = current(prefix)
    if graph is None:
        return
    st.caption(session.tr("graph_size", nodes=len(graph["nodes"]), edges=len(graph["edges"])))
    st.caption(session.tr("graph_hint"))
    if graph["truncated"]:
        st.info(session.tr("graph_truncated"))
    st_link_analysis(elements(graph), layout="cose", node_styles=styles(),
                     height=520, key=_component_key(prefix),
                     # The component passes no args to its callback: bind the prefix here.
                     on_change=partial(_on_click, prefix),
                     events=[Event(CLICK, "tap", "node")])
    _controls(prefix, graph["nodes"])


def _controls(prefix: str, nodes: dict[str, dict[str, Any]]) -> None:
    options = list(nodes)

    def caption(node_id: str) -> str:
        return f"{nodes[node_id]['label']}: {nodes[node_id]['caption']}"

    for key in (_choice_key(prefix), f"{prefix}_path_from", f"{prefix}_path_to"):
        if st.session_state.get(key) not in nodes:
            st.session_state.pop(key, None)
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    chosen = left.selectbox(session.tr("expand_node"), options, key=_choice_key(prefix),
                            format_func=caption)
    right.button(session.tr("expand"), key=f"{prefix}_expand", on_click=_on_expand_button,
                 args=(prefix,), disabled=chosen is None)
    source_col, target_col, go_col = st.columns([2, 2, 1], vertical_alignment="bottom")
    source_col.selectbox(session.tr("path_from"), options, key=f"{prefix}_path_from",
                         format_func=caption)
    target_col.selectbox(session.tr("path_to"), options, key=f"{prefix}_path_to",
                         format_func=caption, index=min(1, len(options) - 1))
    go_col.button(session.tr("shortest_path"), key=f"{prefix}_path", on_click=_on_path,
                  args=(prefix,), disabled=len(options) < 2)
