"""The linked-entity graph: drawn with Graphviz, grown one node at a time.

Streamlit's own charts return no clicks, so "expand on click" is a select box of the
nodes shown plus an Expand button that asks the API for that node's 1-hop neighbourhood
and merges it in. The graph lives in session state under a per-page key, so expanding
survives reruns and each page keeps its own picture.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from investigator_ui import session
from investigator_ui.client import ConsoleError

#: Node colours by label, so identifier kinds read apart at a glance.
COLOURS = {"Application": "#f4a261", "Person": "#e76f51", "Dealer": "#2a9d8f",
           "SalesAgent": "#8ab17d"}
DEFAULT_COLOUR = "#a8dadc"
EXPAND_LIMIT = 50


def _key(prefix: str) -> str:
    return f"{prefix}_graph"


def _choice_key(prefix: str) -> str:
    return f"{prefix}_expand_choice"


def current(prefix: str) -> dict[str, Any] | None:
    value = st.session_state.get(_key(prefix))
    return value if isinstance(value, dict) else None


def empty(root: str) -> dict[str, Any]:
    return {"root": root, "nodes": {}, "edges": [], "truncated": False}


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


def load(prefix: str, root: str, hops: int = 1) -> bool:
    """Start the graph at ``root``; False (and the error shown) when the API refuses."""
    try:
        view = session.client().neighbourhood(session.token(), root, hops=hops)
    except ConsoleError as error:
        session.show_error(error)
        return False
    st.session_state[_key(prefix)] = merge(empty(root), view)
    return True


def expand(prefix: str) -> None:
    """Callback of the Expand button: merge the chosen node's neighbours in.

    The choice is read from session state, not bound when the button was drawn, so a
    selection made in the same interaction counts."""
    graph = current(prefix)
    node_id = st.session_state.get(_choice_key(prefix))
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


def to_dot(graph: dict[str, Any]) -> str:
    """Graphviz DOT text; captions are the API's masked values, quoted for DOT."""
    lines = ["graph G {", "  graph [overlap=false, rankdir=LR];",
             '  node [shape=box, style="rounded,filled", fontsize=10];',
             "  edge [fontsize=8];"]
    for node_id, node in graph["nodes"].items():
        colour = COLOURS.get(node["label"], DEFAULT_COLOUR)
        pen = ", penwidth=3" if node_id == graph["root"] else ""
        label = f"{node['label']}\\n{_quote(node['caption'])}"
        lines.append(f'  "{_quote(node_id)}" [label="{label}", fillcolor="{colour}"{pen}];')
    for edge in graph["edges"]:
        lines.append(f'  "{_quote(edge["source"])}" -- "{_quote(edge["target"])}" '
                     f'[label="{_quote(edge["type"])}"];')
    lines.append("}")
    return "\n".join(lines)


def _quote(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def render(prefix: str) -> None:
    """Draw the graph with its size and the expand control."""
    session.show_flash()
    graph = current(prefix)
    if graph is None:
        return
    st.caption(session.tr("graph_size", nodes=len(graph["nodes"]), edges=len(graph["edges"])))
    if graph["truncated"]:
        st.info(session.tr("graph_truncated"))
    st.graphviz_chart(to_dot(graph), width="stretch")
    nodes = graph["nodes"]
    choice_key = _choice_key(prefix)
    if st.session_state.get(choice_key) not in nodes:
        st.session_state.pop(choice_key, None)
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    with left:
        chosen = st.selectbox(session.tr("expand_node"), list(nodes), key=choice_key,
                              format_func=lambda n: f"{nodes[n]['label']}: {nodes[n]['caption']}")
    with right:
        st.button(session.tr("expand"), key=f"{prefix}_expand", on_click=expand,
                  args=(prefix,), disabled=chosen is None)
