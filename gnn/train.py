"""Generic training: any PyG graph with one labelled node type and train/val/test masks.

``fit(data, config, target)`` takes a ``HeteroData`` (or a homogeneous ``Data``) whose
``target`` node type has ``x``, ``y`` (0/1) and boolean ``train_mask``, ``val_mask`` and
optional ``test_mask``; every other node type needs ``x`` too (a constant feature is added
where it is missing). It trains :class:`~gnn.model.HeteroGnn` mini-batched with PyG's
``NodeLoader`` over :class:`~gnn.sampler.CsrNeighborSampler`, keeps the checkpoint with
the best validation average precision, picks the score threshold on validation, and only
then looks at the test mask. See ``gnn/README.md``.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data, HeteroData
from torch_geometric.loader import NodeLoader
from torch_geometric.typing import NodeType

from gnn.config import GnnConfig, TrainConfig
from gnn.metrics import Metrics, best_f1_threshold, compute_metrics
from gnn.model import HeteroGnn
from gnn.sampler import CsrNeighborSampler

log = logging.getLogger(__name__)

HOMOGENEOUS_TYPE = "node"


@dataclass
class TrainResult:
    """A trained model with the choices made on validation and its figures."""

    model: HeteroGnn
    target: NodeType
    threshold: float
    best_epoch: int
    val: Metrics
    test: Metrics | None
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)


def as_hetero(data: Data | HeteroData, target: NodeType | None = None
              ) -> tuple[HeteroData, NodeType]:
    """The graph as ``HeteroData`` with ``x`` on every node type, and its target type.

    A ``Data`` becomes one node type ``"node"`` with edge type ``("node", "to", "node")``.
    The input is not modified.
    """
    if isinstance(data, Data):
        hetero = HeteroData()
        for key in ("x", "y", "train_mask", "val_mask", "test_mask"):
            if getattr(data, key, None) is not None:
                hetero[HOMOGENEOUS_TYPE][key] = data[key]
        hetero[HOMOGENEOUS_TYPE].num_nodes = data.num_nodes
        hetero[HOMOGENEOUS_TYPE, "to", HOMOGENEOUS_TYPE].edge_index = data.edge_index
        return as_hetero(hetero, HOMOGENEOUS_TYPE)
    if target is None:
        labelled = [t for t in data.node_types if "y" in data[t]]
        if len(labelled) != 1:
            raise ValueError(f"name the target node type; labelled types: {labelled}")
        target = labelled[0]
    missing = [k for k in ("x", "y", "train_mask", "val_mask") if k not in data[target]]
    if missing:
        raise ValueError(f"target node type {target!r} lacks {missing}")
    out = copy.copy(data)
    for node_type in out.node_types:
        if "x" not in out[node_type]:
            out[node_type].x = torch.ones(out[node_type].num_nodes, 1)
    return out, target


def make_model(data: HeteroData, target: NodeType, config: GnnConfig) -> HeteroGnn:
    in_dims = {t: int(data[t].x.size(-1)) for t in data.node_types}
    return HeteroGnn(in_dims, list(data.edge_types), target, config.model)


def make_loader(data: HeteroData, target: NodeType, nodes: Tensor, config: TrainConfig,
                shuffle: bool, seed: int) -> NodeLoader:
    """PyG's ``NodeLoader`` over ``nodes`` of ``target``, with our CSR sampler."""
    sampler = CsrNeighborSampler(data, config.fanouts, seed=seed)
    return NodeLoader(data, node_sampler=sampler, input_nodes=(target, nodes),
                      batch_size=config.batch_size, shuffle=shuffle)


def _loss(logits: Tensor, y: Tensor, pos_weight: Tensor, config: TrainConfig) -> Tensor:
    bce = F.binary_cross_entropy_with_logits(logits, y, pos_weight=pos_weight,
                                             reduction="none")
    if config.loss == "focal":
        p = torch.sigmoid(logits)
        p_t = torch.where(y > 0.5, p, 1 - p)
        bce = bce * (1 - p_t).pow(config.focal_gamma)
    return bce.mean()


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@torch.no_grad()
def predict(model: HeteroGnn, data: HeteroData, nodes: Tensor, config: GnnConfig,
            seed: int = 12345) -> np.ndarray:
    """Fraud probabilities of ``nodes`` of the model's target type, in ``nodes`` order."""
    model.eval()
    device = next(model.parameters()).device
    if config.train.mode == "full":
        data = data.to(device)
        prob = torch.sigmoid(model(data.x_dict, data.edge_index_dict))
        return prob[nodes.to(device)].cpu().numpy()
    out = []
    loader = make_loader(data, model.target, nodes, config.train, shuffle=False, seed=seed)
    for batch in loader:
        batch = batch.to(device)
        size = batch[model.target].batch_size
        out.append(torch.sigmoid(model(batch.x_dict, batch.edge_index_dict)[:size]).cpu())
    return torch.cat(out).numpy() if out else np.empty(0)


def _train_epoch(model: HeteroGnn, data: HeteroData, loader: NodeLoader | None,
                 optimizer: torch.optim.Optimizer, pos_weight: Tensor,
                 config: TrainConfig) -> float:
    model.train()
    device = pos_weight.device
    target = model.target
    total, count = 0.0, 0
    if loader is None:  # full batch
        batches: list[tuple[HeteroData, Tensor]] = [(data, data[target].train_mask)]
    else:
        batches = ((b, torch.arange(b[target].batch_size)) for b in loader)  # type: ignore[assignment]
    for batch, rows in batches:
        batch = batch.to(device)
        rows = rows.to(device)
        optimizer.zero_grad()
        logits = model(batch.x_dict, batch.edge_index_dict)[rows]
        y = batch[target].y[rows].float()
        loss = _loss(logits, y, pos_weight, config)
        loss.backward()
        optimizer.step()
        total += float(loss.detach()) * int(y.numel())
        count += int(y.numel())
    return total / max(count, 1)


def fit(data: Data | HeteroData, config: GnnConfig | None = None,
        target: NodeType | None = None) -> TrainResult:
    """Train on the train mask, choose checkpoint and threshold on the validation mask,
    and report the test mask (if any) with that checkpoint and threshold."""
    config = config or GnnConfig()
    tc = config.train
    if tc.threads:
        torch.set_num_threads(tc.threads)
    torch.manual_seed(tc.seed)
    np.random.seed(tc.seed)
    graph, target = as_hetero(data, target)
    store = graph[target]
    y = store.y.long()
    train_idx = store.train_mask.nonzero().view(-1)
    val_idx = store.val_mask.nonzero().view(-1)
    test_mask = store.get("test_mask")
    if train_idx.numel() == 0 or val_idx.numel() == 0:
        raise ValueError("train and validation masks must both select nodes")
    device = _device()
    model = make_model(graph, target, config).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    positives = int(y[train_idx].sum())
    negatives = int(train_idx.numel()) - positives
    pos_weight = torch.tensor(min(tc.max_pos_weight, negatives / max(positives, 1)),
                              device=device)
    loader = (make_loader(graph, target, train_idx, tc, shuffle=True, seed=tc.seed)
              if tc.mode == "minibatch" else None)
    y_val = y[val_idx].numpy()
    best_ap, best_epoch, best_state = -1.0, 0, copy.deepcopy(model.state_dict())
    history: list[dict[str, float]] = []
    started = time.perf_counter()
    for epoch in range(1, tc.epochs + 1):
        loss = _train_epoch(model, graph, loader, optimizer, pos_weight, tc)
        val_score = predict(model, graph, val_idx, config)
        ap = compute_metrics(y_val, val_score).average_precision or 0.0
        history.append({"epoch": epoch, "loss": loss, "val_ap": ap})
        log.info("epoch %03d loss %.4f val_ap %.4f", epoch, loss, ap)
        if ap > best_ap:
            best_ap, best_epoch, best_state = ap, epoch, copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= tc.patience:
            break
    seconds = time.perf_counter() - started
    model.load_state_dict(best_state)
    val_score = predict(model, graph, val_idx, config)
    threshold = best_f1_threshold(y_val, val_score)
    test = None
    if test_mask is not None and bool(test_mask.any()):
        test_idx = test_mask.nonzero().view(-1)
        test = compute_metrics(y[test_idx].numpy(), predict(model, graph, test_idx, config),
                               threshold)
    return TrainResult(model=model.cpu(), target=target, threshold=threshold,
                       best_epoch=best_epoch, val=compute_metrics(y_val, val_score, threshold),
                       test=test, seconds=seconds, history=history)
