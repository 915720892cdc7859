"""The heterogeneous network.

One input projection per node type, ``num_layers`` heterogeneous layers (R-GCN style
``GraphConv`` per edge type by default; GraphSAGE or HGT by config), and a classifier on
the target node type that sees the node's own projection beside its last layer.

Against camouflage (fraudsters link to honest hubs on purpose, so most neighbours of a
fraud look honest) the design keeps the node's own signal apart from its neighbours':
every edge type has its own weights and a separate root (self) weight, SAGE can
aggregate by mean *and* max (one bad neighbour stays visible among many good ones),
identifier nodes carry their degree, time span and dealer mix so a hub's message can be
discounted, and the classifier gets the node's own projection as a skip connection.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import GraphConv, HeteroConv, HGTConv, SAGEConv
from torch_geometric.typing import EdgeType, NodeType

from gnn.config import ModelConfig


def _conv(config: ModelConfig, node_types: list[NodeType],
          edge_types: list[EdgeType]) -> nn.Module:
    """One heterogeneous layer of the configured kind, ``hidden`` -> ``hidden``."""
    hidden = config.hidden
    if config.conv == "hgt":
        return HGTConv(hidden, hidden, (node_types, edge_types), heads=config.heads)
    if config.conv == "rgcn":
        return HeteroConv({et: GraphConv((hidden, hidden), hidden, aggr="mean")
                           for et in edge_types}, aggr="sum")
    return HeteroConv(
        {et: SAGEConv((hidden, hidden), hidden, aggr=list(config.aggr), root_weight=True)
         for et in edge_types},
        aggr="sum",
    )


class HeteroGnn(nn.Module):
    """Logits of the ``target`` node type from a heterogeneous graph."""

    def __init__(self, in_dims: dict[NodeType, int], edge_types: list[EdgeType],
                 target: NodeType, config: ModelConfig) -> None:
        super().__init__()
        self.target = target
        self.config = config
        hidden = config.hidden
        self.inputs = nn.ModuleDict({t: nn.Linear(d, hidden) for t, d in in_dims.items()})
        self.convs = nn.ModuleList(
            _conv(config, list(in_dims), edge_types) for _ in range(config.num_layers))
        self.norms = nn.ModuleList(
            nn.ModuleDict({t: nn.LayerNorm(hidden) for t in in_dims})
            for _ in range(config.num_layers)
        )
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.ReLU(),
                                  nn.Linear(hidden, 1))

    def layers(self, x_dict: dict[NodeType, Tensor],
               edge_index_dict: dict[EdgeType, Tensor]) -> list[dict[NodeType, Tensor]]:
        """Node representations after the input projection and after each layer (in the
        last layer, only the target type's are updated)."""
        h = {t: torch.relu(self.inputs[t](x)) for t, x in x_dict.items()}
        out = [h]
        # The last layer only feeds the classifier, so only edge types into the target
        # type run there (exactly the same target outputs, a quarter fewer convolutions).
        last_edges = {et: ei for et, ei in edge_index_dict.items() if et[2] == self.target}
        for i, (conv, norms) in enumerate(zip(self.convs, self.norms, strict=True)):
            last = i == len(self.convs) - 1
            new = conv(h, last_edges if last else edge_index_dict)
            # A node type that receives no edge type keeps its representation (HGT returns
            # None for it).
            h = {t: self.dropout(torch.relu(norms[t](new[t])))
                 if new.get(t) is not None else h[t] for t in h}
            out.append(h)
        return out

    def forward(self, x_dict: dict[NodeType, Tensor],
                edge_index_dict: dict[EdgeType, Tensor]) -> Tensor:
        return self.logits(self.layers(x_dict, edge_index_dict))

    def logits(self, layers: list[dict[NodeType, Tensor]]) -> Tensor:
        """Classifier over the target type's own projection and last representation."""
        own, last = layers[0][self.target], layers[-1][self.target]
        return self.head(torch.cat([own, last], dim=-1)).squeeze(-1)
