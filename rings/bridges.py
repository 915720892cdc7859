"""Agent bridges: small groups that one sales agent booked with minimal down payments.

A dealer cash-out ring is linked only through what its finance manager controls: a few
payout accounts, a VIN financed twice, his phone as somebody's contact. Each of those links
two to four straw borrowers, so strong links alone leave the ring in fragments, and what
the fragments have in common (the dealer's tablet and Wi-Fi, the agent) is shared with the
dealer's honest volume. What honest customers rarely show is the combination: fragments
of two or more people, nearly all financing almost the whole price, booked by one agent
within weeks. Consecutive such fragments of one agent are bridged by one strong edge.
Applications in no fragment are never pulled in, and a fleet or a family (ordinary down
payments) or a repeat customer (one person) is never a straw-like fragment.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rings.config import RingConfig
from rings.graphdata import IdentityGraph

DAY = 86_400


def straw_fragments(graph: IdentityGraph, fragment: np.ndarray,
                    config: RingConfig) -> pd.DataFrame:
    """One row per straw-like fragment (index: fragment number): agent, t_min, t_max and
    ``rep``, a member to attach bridges to. ``fragment`` numbers each application's
    strong-link component."""
    size = np.bincount(fragment)[fragment]
    keep = (size >= 2) & (size <= config.max_component_size) & (graph.apps.agent != "")
    idx = np.flatnonzero(keep)
    members = pd.DataFrame({
        "fragment": fragment[idx], "app": idx, "agent": graph.apps.agent[idx],
        "t": graph.apps.submitted[idx], "person": graph.persons()[idx],
        "straw": graph.loan_to_price()[idx] >= config.straw_loan_to_price})
    by = members.groupby("fragment", sort=False)
    frags = by.agg(straw=("straw", "mean"), persons=("person", "nunique"),
                   t_min=("t", "min"), t_max=("t", "max"), rep=("app", "min"),
                   size=("app", "size"))
    top = members.groupby(["fragment", "agent"], sort=False).size().rename("n").reset_index()
    top = top.sort_values("n", ascending=False).drop_duplicates("fragment")
    frags = frags.join(top.set_index("fragment"))
    window = config.agent_bridge_days * DAY
    straw = ((frags["straw"] >= config.straw_fragment_share) & (frags["persons"] >= 2)
             & (frags["n"] >= config.straw_fragment_share * frags["size"])
             & (frags["t_max"] - frags["t_min"] <= window))
    return frags.loc[straw, ["agent", "t_min", "t_max", "rep"]]


def agent_bridges(graph: IdentityGraph, fragment: np.ndarray,
                  config: RingConfig) -> tuple[np.ndarray, np.ndarray]:
    """Bridge edges (two arrays of application positions) between consecutive straw-like
    fragments of one agent whose applications all fall within ``agent_bridge_days``."""
    empty = np.zeros(0, dtype=np.int64)
    if config.agent_bridge_days <= 0 or graph.n_apps == 0:
        return empty, empty
    frags = straw_fragments(graph, fragment, config).sort_values(["agent", "t_min"])
    agent, t_min = frags["agent"].to_numpy(), frags["t_min"].to_numpy()
    t_max, rep = frags["t_max"].to_numpy(), frags["rep"].to_numpy(dtype=np.int64)
    span = np.maximum(t_max[1:], t_max[:-1]) - t_min[:-1]
    bridge = (agent[1:] == agent[:-1]) & (span <= config.agent_bridge_days * DAY)
    return rep[:-1][bridge], rep[1:][bridge]
