"""A pure-PyTorch heterogeneous neighbour sampler for PyG's ``NodeLoader``.

PyG's own ``NeighborSampler`` needs ``pyg-lib`` or ``torch-sparse``, neither of which has a
wheel for this torch build. :class:`CsrNeighborSampler` does the same job in plain
PyTorch: every edge type is kept as a CSR index over its destination nodes, and each hop
draws at most ``fanout`` incoming edges per frontier node, without replacement. Seed
nodes come first in their node type, so ``batch[node_type].batch_size`` rows of the
output are the seeds, exactly as with PyG's sampler.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch_geometric.data import HeteroData
from torch_geometric.sampler import BaseSampler, HeteroSamplerOutput, NodeSamplerInput
from torch_geometric.typing import EdgeType, NodeType


@dataclass(frozen=True)
class _Csr:
    """Incoming edges of one edge type, grouped by destination node."""

    indptr: Tensor  # [num_dst + 1]
    src: Tensor  # source node of each edge, in CSR order
    eid: Tensor  # original edge id of each edge, in CSR order


def _to_csr(edge_index: Tensor, num_dst: int) -> _Csr:
    dst = edge_index[1]
    order = torch.argsort(dst, stable=True)
    counts = torch.bincount(dst, minlength=num_dst)
    indptr = torch.zeros(num_dst + 1, dtype=torch.long)
    indptr[1:] = torch.cumsum(counts, 0)
    return _Csr(indptr, edge_index[0, order].contiguous(), order)


class _LocalIds:
    """Global-to-local node numbering of one node type inside one sampled subgraph.

    ``map`` is a reusable ``-1``-filled buffer over all nodes of the type; ``reset`` puts
    back the entries this subgraph used, so a batch costs O(sampled nodes), not O(graph).
    """

    def __init__(self, buffer: Tensor) -> None:
        self.map = buffer
        self.nodes: list[Tensor] = []
        self.count = 0

    def add(self, nodes: Tensor, dedupe: bool = True) -> tuple[Tensor, Tensor]:
        """Number the nodes not seen yet, in order; returns the map and the new nodes.

        ``dedupe=False`` keeps the given order (for seeds, which must come first as given).
        """
        if dedupe and nodes.numel():
            nodes = torch.unique(nodes)
        fresh = nodes[self.map[nodes] < 0]
        if fresh.numel():
            self.map[fresh] = torch.arange(self.count, self.count + fresh.numel())
            self.count += fresh.numel()
            self.nodes.append(fresh)
        return self.map, fresh

    def reset(self) -> None:
        for chunk in self.nodes:
            self.map[chunk] = -1

    def all(self) -> Tensor:
        return torch.cat(self.nodes) if self.nodes else torch.empty(0, dtype=torch.long)


class CsrNeighborSampler(BaseSampler):
    """Samples ``fanouts[h]`` incoming neighbours per node and edge type at hop ``h``.

    Works on a ``HeteroData`` whose edge types all carry ``edge_index``. ``seed`` makes
    the draws reproducible (one generator per sampler).
    """

    def __init__(self, data: HeteroData, fanouts: list[int], seed: int | None = None) -> None:
        self.fanouts = list(fanouts)
        self.num_nodes = {t: data[t].num_nodes for t in data.node_types}
        self.csr: dict[EdgeType, _Csr] = {
            et: _to_csr(data[et].edge_index, self.num_nodes[et[2]]) for et in data.edge_types
        }
        self._buffers = {
            t: torch.full((n,), -1, dtype=torch.long) for t, n in self.num_nodes.items()
        }
        self.generator = torch.Generator()
        if seed is not None:
            self.generator.manual_seed(seed)

    def _draw(self, csr: _Csr, dst: Tensor, fanout: int) -> tuple[Tensor, Tensor, Tensor]:
        """(src, dst, eid) of at most ``fanout`` incoming edges of each node in ``dst``."""
        start, end = csr.indptr[dst], csr.indptr[dst + 1]
        deg = end - start
        take = deg.clamp(max=fanout) if fanout >= 0 else deg
        total = int(take.sum())
        if total == 0:
            empty = torch.empty(0, dtype=torch.long)
            return empty, empty, empty
        owner = torch.repeat_interleave(torch.arange(dst.numel()), take, output_size=total)
        # Offset of each draw within its owner's block of `take` draws.
        first = torch.cumsum(take, 0) - take
        slot = torch.arange(total) - first[owner]
        # Without replacement and O(draws), even for hubs: a window of `take` consecutive
        # positions starting at a random offset (mod degree); every neighbour is equally
        # likely to be drawn.
        full = deg[owner]
        offset = (torch.rand(dst.numel(), generator=self.generator) * deg.clamp(min=1)).long()
        pos = (offset[owner] + slot) % full.clamp(min=1)
        edge_pos = start[owner] + pos
        return csr.src[edge_pos], dst[owner], csr.eid[edge_pos]

    def sample_from_nodes(self, index: NodeSamplerInput, **kwargs: object) -> HeteroSamplerOutput:
        input_type = index.input_type
        seeds = index.node
        ids = {t: _LocalIds(buf) for t, buf in self._buffers.items()}
        # Seeds first, in input order (duplicates keep their first position).
        if torch.unique(seeds).numel() != seeds.numel():
            raise ValueError("seed nodes must be distinct")
        ids[input_type].add(seeds, dedupe=False)
        frontier: dict[NodeType, Tensor] = {input_type: seeds.unique()}
        rows: dict[EdgeType, list[Tensor]] = {}
        cols: dict[EdgeType, list[Tensor]] = {}
        eids: dict[EdgeType, list[Tensor]] = {}
        sampled_nodes = {t: [0] for t in self.num_nodes}
        sampled_nodes[input_type] = [ids[input_type].count]
        sampled_edges: dict[EdgeType, list[int]] = {et: [] for et in self.csr}
        try:
            for fanout in self.fanouts:
                found: dict[NodeType, list[Tensor]] = {}
                for et, csr in self.csr.items():
                    dst_nodes = frontier.get(et[2])
                    if dst_nodes is None or dst_nodes.numel() == 0:
                        sampled_edges[et].append(0)
                        continue
                    src, dst, eid = self._draw(csr, dst_nodes, fanout)
                    found.setdefault(et[0], []).append(src)
                    rows.setdefault(et, []).append(src)
                    cols.setdefault(et, []).append(ids[et[2]].map[dst].clone())
                    eids.setdefault(et, []).append(eid)
                    sampled_edges[et].append(src.numel())
                frontier = {}
                for node_type in self.num_nodes:
                    before = ids[node_type].count
                    if node_type in found:
                        _, fresh = ids[node_type].add(torch.cat(found[node_type]))
                        frontier[node_type] = fresh
                    sampled_nodes[node_type].append(ids[node_type].count - before)
            # Sources are renumbered once every hop has added its nodes.
            row = {et: ids[et[0]].map[torch.cat(parts)] for et, parts in rows.items()}
            col = {et: torch.cat(parts) for et, parts in cols.items()}
            edge = {et: torch.cat(parts) for et, parts in eids.items()}
            node = {t: ids[t].all() for t in self.num_nodes}
            input_id = index.node if index.input_id is None else index.input_id
        finally:
            for local in ids.values():
                local.reset()
        return HeteroSamplerOutput(
            node=node, row=row, col=col, edge=edge, batch=None,
            num_sampled_nodes=sampled_nodes, num_sampled_edges=sampled_edges,
            metadata=(input_id, index.time),
        )

    def sample_from_edges(self, index: object, neg_sampling: object = None) -> object:
        raise NotImplementedError("CsrNeighborSampler samples around nodes only")
