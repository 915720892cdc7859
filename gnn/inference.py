"""The R-GCN's forward pass for one small subgraph, with each layer's per-edge-type
convolutions fused.

Scoring one application runs the network on ~100 nodes, where the cost is not
arithmetic but one module call per edge type and layer (36 ``GraphConv`` calls for two
layers over our 24 edge types). ``HeteroConv`` sums, per destination type,
``lin_rel(mean of sources) + lin_root(x_dst)`` over edge types; that sum is one matrix
product over the concatenated means plus one over ``x_dst`` with the summed root
weights. Same outputs (a test compares them), same autograd graph for the reasons,
several times fewer Python calls.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.nn import GraphConv
from torch_geometric.typing import EdgeType, NodeType

from gnn.model import HeteroGnn


class _FusedLayer:
    """One ``HeteroConv`` of ``GraphConv``s, as fused weights per destination type."""

    def __init__(self, conv: torch.nn.Module, edge_types: list[EdgeType]) -> None:
        self.by_dst: dict[NodeType, tuple[list[EdgeType], Tensor, Tensor, Tensor]] = {}
        with torch.no_grad():
            for dst in dict.fromkeys(et[2] for et in edge_types):
                ets = [et for et in edge_types if et[2] == dst]
                convs: list[GraphConv] = [conv.convs[et] for et in ets]
                rel = torch.cat([c.lin_rel.weight for c in convs], dim=1).t().contiguous()
                bias = torch.stack([c.lin_rel.bias for c in convs]).sum(0)
                root = torch.stack([c.lin_root.weight for c in convs]).sum(0).t().contiguous()
                self.by_dst[dst] = (ets, rel, bias, root)

    def __call__(self, h: dict[NodeType, Tensor],
                 edge_index_dict: dict[EdgeType, Tensor]) -> dict[NodeType, Tensor]:
        out = {}
        for dst, (ets, rel, bias, root) in self.by_dst.items():
            x_dst = h[dst]
            means = []
            for et in ets:
                src, dst_idx = edge_index_dict[et]
                count = torch.bincount(dst_idx, minlength=x_dst.size(0)).clamp_(min=1)
                total = x_dst.new_zeros(x_dst.size(0), h[et[0]].size(1)).index_add(
                    0, dst_idx, h[et[0]][src])
                means.append(total / count.unsqueeze(1))
            out[dst] = torch.cat(means, dim=1) @ rel + bias + x_dst @ root
        return out


class FusedRgcn:
    """``HeteroGnn.layers`` / ``logits`` of an R-GCN in eval mode, for graphs whose
    ``edge_index_dict`` has exactly ``edge_types`` (empty ones included: each still adds
    its root term and bias, as in training)."""

    def __init__(self, model: HeteroGnn, edge_types: list[EdgeType]) -> None:
        if model.config.conv != "rgcn":
            raise ValueError(f"FusedRgcn fuses R-GCN layers, not {model.config.conv!r}")
        self.model = model
        self.edge_types = list(edge_types)
        last = len(model.convs) - 1
        self.layers_ = [
            _FusedLayer(conv, [et for et in self.edge_types
                               if i < last or et[2] == model.target])
            for i, conv in enumerate(model.convs)]

    def layers(self, x_dict: dict[NodeType, Tensor],
               edge_index_dict: dict[EdgeType, Tensor]) -> list[dict[NodeType, Tensor]]:
        if set(edge_index_dict) != set(self.edge_types):
            raise ValueError("the subgraph's edge types are not the model's")
        model = self.model
        h = {t: torch.relu(model.inputs[t](x)) for t, x in x_dict.items()}
        out = [h]
        for layer, norms in zip(self.layers_, model.norms, strict=True):
            new = layer(h, edge_index_dict)
            h = {t: torch.relu(norms[t](new[t])) if t in new else h[t] for t in h}
            out.append(h)
        return out

    def logits(self, layers: list[dict[NodeType, Tensor]]) -> Tensor:
        return self.model.logits(layers)
