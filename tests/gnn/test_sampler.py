"""The pure-PyTorch neighbour sampler, alone and inside PyG's NodeLoader."""

from __future__ import annotations

import torch
from torch_geometric.loader import NodeLoader
from torch_geometric.sampler import NodeSamplerInput

from gnn.sampler import CsrNeighborSampler
from tests.gnn.graphs import planted_graph


def _edge_set(data, edge_type) -> set[tuple[int, int]]:
    src, dst = data[edge_type].edge_index.tolist()
    return set(zip(src, dst, strict=True))


def test_sampled_edges_exist_and_seeds_come_first() -> None:
    data = planted_graph(n_app=400, n_dev=40)
    sampler = CsrNeighborSampler(data, [3, 5], seed=1)
    seeds = torch.tensor([17, 3, 250, 99])
    out = sampler.sample_from_nodes(NodeSamplerInput(input_id=None, node=seeds,
                                                     input_type="app"))
    assert out.node["app"][:4].tolist() == seeds.tolist()
    for edge_type, row in out.row.items():
        src = out.node[edge_type[0]][row]
        dst = out.node[edge_type[2]][out.col[edge_type]]
        pairs = set(zip(src.tolist(), dst.tolist(), strict=True))
        assert pairs <= _edge_set(data, edge_type)
        # The returned edge ids point at those very edges.
        original = data[edge_type].edge_index[:, out.edge[edge_type]]
        assert original[0].tolist() == src.tolist() and original[1].tolist() == dst.tolist()
    assert len(out.node["app"].unique()) == len(out.node["app"])


def test_fanout_is_respected_per_node_and_hop() -> None:
    data = planted_graph(n_app=600, n_dev=10)  # ~60 applications per device
    sampler = CsrNeighborSampler(data, [1, 4], seed=2)
    out = sampler.sample_from_nodes(NodeSamplerInput(input_id=None,
                                                     node=torch.arange(8),
                                                     input_type="app"))
    # Hop 2 draws applications into devices: at most 4 per device.
    col = out.col[("app", "uses", "dev")]
    assert col.numel() > 0
    assert int(torch.bincount(col).max()) <= 4
    assert out.num_sampled_edges[("app", "uses", "dev")] == [0, col.numel()]
    # Hop 1: each seed has exactly one device, so one edge per seed.
    assert out.num_sampled_edges[("dev", "rev_uses", "app")][0] == 8


def test_node_loader_yields_batches_with_seeds_first() -> None:
    data = planted_graph(n_app=300, n_dev=30)
    seeds = torch.arange(0, 300, 3)
    loader = NodeLoader(data, node_sampler=CsrNeighborSampler(data, [5, 5], seed=0),
                        input_nodes=("app", seeds), batch_size=32, shuffle=False)
    seen = []
    for batch in loader:
        size = batch["app"].batch_size
        seen += batch["app"].n_id[:size].tolist()
        assert batch["app"].x.size(0) == batch["app"].n_id.numel()
        assert torch.equal(batch["app"].y[:size], data["app"].y[batch["app"].n_id[:size]])
        ei = batch["dev", "rev_uses", "app"].edge_index
        assert int(ei[1].max()) < batch["app"].num_nodes
    assert seen == seeds.tolist()
