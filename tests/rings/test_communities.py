"""Components on strong links, Leiden for oversized components, on hand-made graphs."""

from __future__ import annotations

import numpy as np

from graph.schema import Rel
from rings.communities import find_groups
from rings.config import RingConfig
from rings.projection import project
from tests.rings.helpers import graph


def groups_of(membership: np.ndarray) -> list[list[int]]:
    out: dict[int, list[int]] = {}
    for app, group in enumerate(membership.tolist()):
        if group >= 0:
            out.setdefault(group, []).append(app)
    return sorted(out.values())


def chain(apps: list[int], first_ident: int, rel: Rel = Rel.SUBMITTED_FROM_DEVICE
          ) -> list[tuple[int, int, Rel]]:
    """Consecutive applications share one identifier each: a connected chain."""
    return [t for i, (a, b) in enumerate(zip(apps, apps[1:], strict=False))
            for t in ((a, first_ident + i, rel), (b, first_ident + i, rel))]


def test_strong_components_become_rings_and_weak_hubs_do_not_glue_them() -> None:
    triples = chain([0, 1, 2, 3], 0) + chain([4, 5, 6], 10)
    triples += [(a, 99, Rel.SUBMITTED_FROM_IP) for a in range(8)]  # one shared NAT IP
    membership = find_groups(project(graph(8, triples), RingConfig()), RingConfig())
    assert groups_of(membership) == [[0, 1, 2, 3], [4, 5, 6]]
    assert membership[7] == -1


def test_groups_below_the_minimum_size_are_not_rings() -> None:
    triples = chain([0, 1], 0) + chain([2, 3, 4], 10)
    membership = find_groups(project(graph(5, triples), RingConfig()), RingConfig())
    assert groups_of(membership) == [[2, 3, 4]]


def two_cliques_and_a_bridge() -> list[tuple[int, int, Rel]]:
    triples = []
    ident = 0
    for block in (range(0, 6), range(6, 12)):
        for a in block:
            for b in block:
                if a < b:
                    rel = Rel.REPAYMENT_ACCOUNT
                    triples += [(a, ident, rel), (b, ident, rel)]
                    ident += 1
    return triples + [(5, ident, Rel.HOME_ADDRESS), (6, ident, Rel.HOME_ADDRESS)]


def test_an_oversized_component_is_split_by_leiden() -> None:
    g = graph(12, two_cliques_and_a_bridge())
    small = RingConfig(max_component_size=8)
    assert groups_of(find_groups(project(g, small), small)) == [list(range(6)),
                                                                  list(range(6, 12))]
    large = RingConfig(max_component_size=40)
    assert groups_of(find_groups(project(g, large), large)) == [list(range(12))]


def test_leiden_is_reproducible_with_the_seed() -> None:
    g = graph(12, two_cliques_and_a_bridge())
    config = RingConfig(max_component_size=8, seed=3)
    first = find_groups(project(g, config), config)
    assert np.array_equal(first, find_groups(project(g, config), config))
