"""The application-to-application projection: who shares what, weighted by evidence.

Two applications sharing identifier j through links r_a and r_b get
``sqrt(w(r_a) * w(r_b)) * damp(deg j)``, summed over everything they share. So a device
shared by three applications is strong and a dealer tablet shared by four hundred is weak
but still counted. Identifiers above ``hub_cap`` are not expanded into pairs (that would be
quadratic); each application's links to them are counted as weak evidence instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from graph.schema import Rel
from rings.config import RingConfig
from rings.graphdata import LINK_RELS, IdentityGraph, Links


@dataclass
class Projection:
    """Weighted undirected application pairs (src < dst) and the hub evidence kept aside."""

    n_apps: int
    src: np.ndarray  # int64
    dst: np.ndarray  # int64
    weight: np.ndarray  # float64
    #: Per application: links to identifiers above the hub cap (not expanded into pairs).
    hub_links: np.ndarray
    #: Identifiers above the hub cap, and how many links they carry.
    hubs_skipped: int
    hub_link_total: int

    @property
    def n_edges(self) -> int:
        return len(self.src)

    def strong(self, threshold: float) -> np.ndarray:
        """Mask of the pairs at or above ``threshold``."""
        return self.weight >= threshold


def link_weights(links: Links, config: RingConfig) -> np.ndarray:
    """The configured evidence weight of each link (an employer's mobile counts as one)."""
    table = np.array([config.weight(rel) for rel in LINK_RELS], dtype=np.float64)
    weights = table[links.rel.astype(np.int64)]
    employer_phone = links.rel == LINK_RELS.index(Rel.EMPLOYER_PHONE)
    weights[employer_phone & links.mobile] = config.employer_mobile_weight
    return weights


def pair_weight(weight_a: float, weight_b: float, degree: int, config: RingConfig) -> float:
    """One shared identifier's contribution to a pair: the same formula as ``project``."""
    return float(np.sqrt(weight_a * weight_b) * config.damp(degree))


def project(graph: IdentityGraph, config: RingConfig) -> Projection:
    """Build the weighted projection of ``graph`` (pure; no I/O).

    Identifiers touching 2..``hub_cap`` applications are expanded into pairs; hubs above
    the cap add their (small, damped) weight to pairs that something else already links,
    and are counted per application, but create no pair on their own.
    """
    links = graph.links
    n, m = graph.n_apps, graph.n_identifiers
    degrees = graph.identifier_degrees()
    weights = link_weights(links, config)
    link_degree = degrees[links.ident] if len(links) else np.zeros(0, np.int64)
    hub = (link_degree > config.hub_cap) & (weights > 0)
    shared = (link_degree >= 2) & (weights > 0)
    # B[a, j] = sqrt(w * damp(d_j)), so (B B^T)[a, b] sums sqrt(w_a w_b) * damp(d_j).
    values = np.sqrt(weights * (2.0 / np.maximum(link_degree, 2)) ** config.hub_damping_exponent)
    small = shared & ~hub
    incidence = sp.csr_matrix((values[small], (links.app[small], links.ident[small])),
                              shape=(n, m))
    pairs = sp.triu(incidence @ incidence.T, k=1).tocoo()
    src, dst = pairs.row.astype(np.int64), pairs.col.astype(np.int64)
    weight = pairs.data.astype(np.float64)
    weight += _hub_weights(src, dst, links.app[hub], links.ident[hub], values[hub], n)
    return Projection(
        n_apps=n, src=src, dst=dst, weight=weight,
        hub_links=np.bincount(links.app[hub], minlength=n).astype(np.int64),
        hubs_skipped=int((degrees > config.hub_cap).sum()),
        hub_link_total=int(hub.sum()),
    )


def _hub_weights(src: np.ndarray, dst: np.ndarray, app: np.ndarray, ident: np.ndarray,
                 value: np.ndarray, n: int, chunk: int = 1_000_000) -> np.ndarray:
    """For each pair, the sum over hubs both ends touch of value_a * value_b."""
    out = np.zeros(len(src), dtype=np.float64)
    if len(app) == 0 or len(src) == 0:
        return out
    # Each application's hub links as a padded (n, k) table: k is small (a few kinds).
    order = np.lexsort((ident, app))
    app, ident, value = app[order], ident[order], value[order]
    starts = np.searchsorted(app, np.arange(n))
    slot = np.arange(len(app)) - starts[app]
    k = int(slot.max()) + 1
    hub_id = np.full((n, k), -1, dtype=np.int64)
    hub_val = np.zeros((n, k), dtype=np.float64)
    hub_id[app, slot], hub_val[app, slot] = ident, value
    for lo in range(0, len(src), chunk):
        a, b = src[lo:lo + chunk], dst[lo:lo + chunk]
        for i in range(k):  # k*k vector passes beat one (chunk, k, k) temporary
            ids_a, vals_a = hub_id[a, i], hub_val[a, i]
            for j in range(k):
                same = (ids_a == hub_id[b, j]) & (ids_a >= 0)
                out[lo:lo + chunk] += np.where(same, vals_a * hub_val[b, j], 0.0)
    return out
