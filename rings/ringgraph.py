"""Exact work on one ring with networkx: centrality, bridges, and the server-side picture.

igraph serves the whole graph; a single ring or ego network is small, so networkx's
exact algorithms are cheap here and easier to read.
"""

from __future__ import annotations

import io

import networkx as nx

KIND_COLOURS = {
    "Application": "#1f77b4", "Person": "#d62728", "Phone": "#ff7f0e", "Device": "#2ca02c",
    "IP": "#17becf", "Address": "#8c564b", "Employer": "#9467bd", "BankAccount": "#e377c2",
    "Vehicle": "#7f7f7f",
}


def structure(graph: nx.Graph) -> dict[str, object]:
    """Centrality and bridges of a ring graph: who holds it together."""
    if graph.number_of_nodes() == 0:
        return {"central": [], "bridges": [], "components": 0}
    centrality = nx.betweenness_centrality(graph)
    central = sorted(centrality.items(), key=lambda kv: -kv[1])[:5]
    return {
        "central": [(str(node), round(value, 3)) for node, value in central],
        "bridges": [(str(a), str(b)) for a, b in nx.bridges(graph)],
        "components": nx.number_connected_components(graph),
    }


def shortest_link(graph: nx.Graph, a: str, b: str) -> list[str]:
    """The shortest chain of shared identifiers from application ``a`` to ``b``."""
    try:
        return [str(n) for n in nx.shortest_path(graph, a, b)]
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        return []


def picture_png(graph: nx.Graph, title: str, seed: int = 7) -> bytes:
    """The ring graph drawn with matplotlib (kinds coloured, legend), as PNG bytes.

    Labels stay ASCII (application ids, identifier kinds), so no CJK font is needed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig, ax = plt.subplots(figsize=(7, 5.5), dpi=110)
    if graph.number_of_nodes():
        pos = nx.spring_layout(graph, seed=seed, k=0.9)
        kinds = [graph.nodes[n].get("kind", "Application") for n in graph]
        colours = [KIND_COLOURS.get(k, "#bcbd22") for k in kinds]
        sizes = [260 if k == "Application" else 160 for k in kinds]
        nx.draw_networkx_edges(graph, pos, ax=ax, alpha=0.5)
        nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=colours, node_size=sizes)
        labels = {n: str(n)[-6:] for n in graph if graph.nodes[n].get("kind") == "Application"}
        nx.draw_networkx_labels(graph, pos, labels=labels, ax=ax, font_size=7)
        present = sorted(set(kinds))
        ax.legend(handles=[Line2D([0], [0], marker="o", linestyle="", markersize=8,
                                  markerfacecolor=KIND_COLOURS.get(k, "#bcbd22"),
                                  markeredgecolor="none", label=k) for k in present],
                  loc="best", fontsize=7, frameon=False)
    ax.set_title(title, fontsize=10)
    ax.set_axis_off()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()
