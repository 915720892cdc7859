"""The R-GCN's forward pass for small subgraphs: ``OneApplicationRgcn`` (two layers,
what scoring runs: one application's subgraph, or a batch's as disjoint blocks) and
``FusedRgcn`` (any depth, each layer's per-edge-type convolutions fused).

Scoring one application runs the network on ~100 nodes, where the cost is not
arithmetic but one module call per edge type and layer (36 ``GraphConv`` calls for two
layers over our 24 edge types). ``HeteroConv`` sums, per destination type,
``lin_rel(mean of sources) + lin_root(x_dst)`` over edge types; that sum is one matrix
product over the concatenated means plus one over ``x_dst`` with the summed root
weights. Same outputs (a test compares them), same autograd graph for the reasons,
several times fewer Python calls.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass
class Neighbourhood:
    """Two-hop subgraphs in the flat form ``OneApplicationRgcn`` takes: applications are
    rows of ``x_app``, the scored ones at ``roots``; identifier (dealer, agent) nodes of
    every type are rows of ``x_node``, ``node_type`` saying which; every edge from an
    application to a node carries its relationship's number (``rels`` of the network).
    Several applications' subgraphs are disjoint blocks of the same tables, so each
    root's score depends on its own block only; ``own_edges`` are the edges of the
    roots themselves, ``own_root`` which root (position in ``roots``) each belongs to."""

    x_app: Tensor  # [apps, app features], scaled
    x_node: Tensor  # [nodes, node features], scaled
    node_type: Tensor  # [nodes], index into OneApplicationRgcn.node_types
    edge_app: Tensor  # [edges] application row
    edge_node: Tensor  # [edges] node row
    edge_rel: Tensor  # [edges] relationship number
    roots: Tensor  # [scored] application row of each scored application
    own_edges: Tensor  # [own edges] index into the edges
    own_root: Tensor  # [own edges] position in ``roots``


class OneApplicationRgcn:
    """A two-layer R-GCN's score of the scored applications (and what their reasons need),
    computing only what those scores depend on: every node's input projection, the first
    layer for the scored applications' identifiers and for themselves, the second for
    themselves.

    ``FusedRgcn`` runs every edge type's aggregation for every node of the subgraph (one
    ~5-call step per edge type and layer; the ~40 other applications' first layer is never
    used). Here each layer is a handful of calls whatever the number of types: weights of
    all node types (relationships) are stacked and gathered per node (edge), and the mean
    over each (node, relationship) is a weighted ``index_add``. Weights are copied without
    autograd history, so the gradients the reasons take cover activations only. Same
    outputs as the network (a test compares them).
    """

    def __init__(self, model: HeteroGnn, edge_types: list[EdgeType]) -> None:
        if model.config.conv != "rgcn" or len(model.convs) != 2:
            raise ValueError("OneApplicationRgcn runs two-layer R-GCNs")
        app = model.target
        forward = [et for et in edge_types if et[0] == app]
        self.rels = [et[1] for et in forward]
        self.node_types = list(dict.fromkeys(et[2] for et in forward))
        conv1, conv2 = (c.convs for c in model.convs)  # type: ignore[union-attr]
        types, rev = self.node_types, [(et[2], f"rev_{et[1]}", app) for et in forward]

        def stack(items: list[Tensor]) -> Tensor:
            return torch.stack([t.detach().clone() for t in items])

        with torch.no_grad():
            self.in_w = stack([model.inputs[t].weight.t() for t in types])
            self.in_b = stack([model.inputs[t].bias for t in types])
            self.app_in_w = model.inputs[app].weight.t().detach().clone()
            self.app_in_b = model.inputs[app].bias.detach().clone()
            # Layer 1 into nodes: one relation weight per forward edge type, root and
            # bias summed over the edge types into each node type (as HeteroConv sums).
            self.rel1 = torch.cat([conv1[et].lin_rel.weight.t() for et in forward], 1)
            self.rel1_b = stack([conv1[et].lin_rel.bias for et in forward])
            into = [[i for i, et in enumerate(forward) if et[2] == t] for t in types]
            self.root1 = stack([sum(conv1[forward[i]].lin_root.weight.t() for i in idx)
                                for idx in into])
            self.bias1 = torch.stack([self.rel1_b[idx].sum(0) for idx in into])
            self.norm1 = (stack([model.norms[0][t].weight for t in types]),
                          stack([model.norms[0][t].bias for t in types]))
            # Into the application, per layer: reverse edge types.
            self.app_layers = [
                (stack([conv[et].lin_rel.weight.t() for et in rev]),
                 torch.stack([conv[et].lin_rel.bias for et in rev]).sum(0).detach(),
                 torch.stack([conv[et].lin_root.weight.t() for et in rev]).sum(0).detach(),
                 model.norms[layer][app])
                for layer, conv in enumerate((conv1, conv2))]
        self.hidden = self.app_in_w.size(1)
        self.eps = model.norms[0][app].eps
        self.head = model.head

    def _norm(self, h: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        """LayerNorm with a (weight, bias) row per node (each node type has its own)."""
        return torch.nn.functional.layer_norm(h, (self.hidden,), eps=self.eps) * weight + bias

    def layers(self, g: Neighbourhood) -> tuple[Tensor, Tensor, Tensor]:
        """The scored applications' projections, the nodes' first layer, and the scored
        applications' logits (one per root)."""
        h_app = torch.relu(g.x_app @ self.app_in_w + self.app_in_b)
        t = g.node_type
        h_node = torch.relu(torch.bmm(g.x_node.unsqueeze(1), self.in_w[t]).squeeze(1)
                            + self.in_b[t])
        # Nodes, layer 1: mean of the linked applications per (node, relationship).
        n_rel = len(self.rels)
        key = g.edge_node * n_rel + g.edge_rel
        count = torch.bincount(key, minlength=len(t) * n_rel).float()
        messages = (h_app @ self.rel1).view(-1, n_rel, self.hidden)[g.edge_app, g.edge_rel]
        total = h_node.new_zeros(len(t), self.hidden).index_add(
            0, g.edge_node, messages / count[key].unsqueeze(1))
        # Every edge type's bias and root term count, messages or not (as in training).
        pre = total + self.bias1[t] + torch.bmm(h_node.unsqueeze(1), self.root1[t]).squeeze(1)
        h1_node = torch.relu(self._norm(pre, self.norm1[0][t], self.norm1[1][t]))
        # Each scored application: mean over its nodes per relationship, twice.
        node, rel, root = g.edge_node[g.own_edges], g.edge_rel[g.own_edges], g.own_root
        n_roots = len(g.roots)
        own_key = root * n_rel + rel
        per_rel = torch.bincount(own_key, minlength=n_roots * n_rel).float()
        weight = (1.0 / per_rel[own_key]).unsqueeze(1)
        h_roots = h_app[g.roots]
        h = h_roots
        for (w_rel, bias, root_w, norm), source in zip(self.app_layers, (h_node, h1_node),
                                                       strict=True):
            msg = torch.bmm(source[node].unsqueeze(1), w_rel[rel]).squeeze(1) * weight
            summed = h.new_zeros(n_roots, self.hidden).index_add(0, root, msg)
            h = torch.relu(norm(summed + bias + h @ root_w))
        logits = self.head(torch.cat([h_roots, h], dim=1)).squeeze(-1)
        return h_roots, h1_node, logits
