"""Configuration of the GNN and its training, as pydantic models (saved with each model)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ModelConfig(BaseModel):
    """Shape of the heterogeneous network."""

    #: ``rgcn``: R-GCN style, one GraphConv per edge type (own root weight, mean
    #: aggregation); ``sage``: GraphSAGE per edge type (root weight, mean+max); ``hgt``:
    #: heterogeneous graph transformer. Measured side by side (gnn/README.md): equal
    #: validation AP within noise; rgcn trains ~1.5x and scores ~2x faster than sage.
    conv: Literal["sage", "rgcn", "hgt"] = "rgcn"
    heads: int = Field(2, ge=1)
    hidden: int = Field(64, ge=4)
    num_layers: int = Field(2, ge=1, le=4)
    #: ``sage`` only: neighbour aggregations, concatenated: max keeps a single fraudulent
    #: neighbour visible next to many honest ones (camouflage), mean keeps the mix.
    aggr: list[str] = Field(default_factory=lambda: ["mean", "max"])
    dropout: float = Field(0.2, ge=0.0, lt=1.0)


class TrainConfig(BaseModel):
    """How one model is trained; every choice is made on the validation split."""

    epochs: int = Field(30, ge=1)
    batch_size: int = Field(512, ge=1)
    #: Incoming neighbours drawn per node and edge type, one entry per hop (= layer).
    fanouts: list[int] = Field(default_factory=lambda: [10, 10])
    lr: float = Field(0.005, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    #: ``weighted``: cross-entropy with positives weighted by neg/pos (capped);
    #: ``focal``: focal loss with ``focal_gamma`` on top of that weighting.
    loss: Literal["weighted", "focal"] = "weighted"
    focal_gamma: float = Field(2.0, ge=0)
    max_pos_weight: float = Field(50.0, ge=1)
    #: Stop when validation average precision has not improved for this many epochs.
    patience: int = Field(8, ge=1)
    #: ``minibatch`` samples neighbourhoods with the CSR sampler; ``full`` uses the whole
    #: graph in each step (small graphs only).
    mode: Literal["minibatch", "full"] = "minibatch"
    seed: int = 0
    #: CPU threads for torch during training and prediction (None: torch's default). One
    #: thread was ~5x faster than two on the shared 2-core box, where Neo4j competes.
    threads: int | None = Field(1, ge=1)
    #: Score cut-off policy: the threshold maximising F1 on validation.
    threshold_metric: Literal["f1"] = "f1"


class GnnConfig(BaseModel):
    """Everything a saved model was made with."""

    model: ModelConfig = Field(default_factory=ModelConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
