"""Candidate rings: connected components on strong links, Leiden for what stays too large.

Components are cheap and exact; only a component above ``max_component_size`` (a place
where honest hubs still glue groups together) is split, with igraph's Leiden on the
modularity objective and a seeded random number generator, so a run is reproducible.
"""

from __future__ import annotations

import random

import igraph as ig
import numpy as np

from fraudgraph.logs import get_logger
from rings.bridges import agent_bridges
from rings.config import RingConfig
from rings.graphdata import IdentityGraph
from rings.projection import Projection

log = get_logger("rings")


def strong_graph(projection: Projection, config: RingConfig) -> ig.Graph:
    """The igraph graph of strong links only, with their weights."""
    mask = projection.strong(config.strong_threshold)
    graph = ig.Graph(n=projection.n_apps,
                     edges=np.column_stack([projection.src[mask], projection.dst[mask]]).tolist())
    graph.es["weight"] = projection.weight[mask].tolist()
    return graph


def leiden(graph: ig.Graph, config: RingConfig) -> list[int]:
    """Seeded Leiden (modularity objective) membership of ``graph``'s vertices."""
    ig.set_random_number_generator(random.Random(config.seed))
    try:
        parts = graph.community_leiden(objective_function="modularity", weights="weight",
                                       resolution=config.leiden_resolution,
                                       n_iterations=config.leiden_iterations)
    finally:
        ig.set_random_number_generator(random)
    return list(parts.membership)


def add_agent_bridges(strong: ig.Graph, graph: IdentityGraph, config: RingConfig) -> int:
    """Add ``rings.bridges`` edges between straw-like fragments of ``strong``; returns how
    many."""
    fragments = np.asarray(strong.connected_components().membership, dtype=np.int64)
    src, dst = agent_bridges(graph, fragments, config)
    strong.add_edges(np.column_stack([src, dst]).tolist(),
                     attributes={"weight": [config.agent_bridge_weight] * len(src)})
    return len(src)


def find_groups(projection: Projection, config: RingConfig,
                identity: IdentityGraph | None = None, strong: ig.Graph | None = None
                ) -> np.ndarray:
    """Group number of each application (-1: in no group of ``min_ring_size`` or more).

    With ``identity`` (the graph projected), straw-like fragments of one agent are bridged
    first (``rings.bridges``). ``strong`` is the strong graph when already built (bridges
    are added to it). Groups are numbered 0..k-1 by size, largest first, ties by smallest
    member.
    """
    graph = strong if strong is not None else strong_graph(projection, config)
    if identity is not None:
        log.info("rings.agent_bridges", bridges=add_agent_bridges(graph, identity, config))
    groups: list[list[int]] = []
    for component in graph.connected_components():
        if len(component) < config.min_ring_size:
            continue
        if len(component) <= config.max_component_size:
            groups.append(list(component))
            continue
        groups.extend(_split(graph, list(component), config))
    groups = [sorted(g) for g in groups if len(g) >= config.min_ring_size]
    groups.sort(key=lambda g: (-len(g), g[0]))
    membership = np.full(projection.n_apps, -1, dtype=np.int64)
    for number, members in enumerate(groups):
        membership[members] = number
    return membership


def _split(graph: ig.Graph, members: list[int], config: RingConfig) -> list[list[int]]:
    """Leiden communities of one oversized component, each itself connected."""
    sub = graph.subgraph(members)
    parts: dict[int, list[int]] = {}
    for vertex, part in enumerate(leiden(sub, config)):
        parts.setdefault(part, []).append(vertex)
    out: list[list[int]] = []
    for vertices in parts.values():
        # A modularity community may be disconnected in rare cases: keep its pieces apart.
        for piece in sub.subgraph(vertices).connected_components():
            out.append([members[vertices[v]] for v in piece])
    return out


def bare_leiden(projection: Projection, config: RingConfig) -> np.ndarray:
    """Reference: igraph's Leiden on the whole weighted projection, no component pass."""
    graph = ig.Graph(n=projection.n_apps,
                     edges=np.column_stack([projection.src, projection.dst]).tolist())
    graph.es["weight"] = projection.weight.tolist()
    return np.array(leiden(graph, config), dtype=np.int64)
