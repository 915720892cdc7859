"""The fused R-GCN used to score one application gives the network's own outputs and
gradients (the reasons are gradients)."""

from __future__ import annotations

import pytest
import torch

from gnn.config import GnnConfig, ModelConfig
from gnn.data import APP, build_graph
from gnn.inference import FusedRgcn
from gnn.train import make_model
from tests.gnn.graphs import portfolio_tables


def test_fused_layers_match_the_network_and_its_gradients() -> None:
    torch.manual_seed(0)
    pg = build_graph(*portfolio_tables())
    model = make_model(pg.data, APP, GnnConfig(model=ModelConfig(hidden=8))).eval()
    fused = FusedRgcn(model, list(pg.data.edge_types))
    x_model = {t: x.clone().requires_grad_(t == APP) for t, x in pg.data.x_dict.items()}
    x_fused = {t: x.clone().requires_grad_(t == APP) for t, x in pg.data.x_dict.items()}
    expected = model(x_model, pg.data.edge_index_dict)
    got = fused.logits(fused.layers(x_fused, pg.data.edge_index_dict))
    assert torch.allclose(got, expected, atol=1e-5)
    expected[3].backward()
    got[3].backward()
    assert torch.allclose(x_fused[APP].grad, x_model[APP].grad, atol=1e-5)
    assert x_fused[APP].grad.abs().sum() > 0


def test_other_layer_kinds_and_edge_sets_are_refused() -> None:
    pg = build_graph(*portfolio_tables())
    sage = make_model(pg.data, APP, GnnConfig(model=ModelConfig(hidden=8, conv="sage")))
    with pytest.raises(ValueError, match="sage"):
        FusedRgcn(sage, list(pg.data.edge_types))
    rgcn = make_model(pg.data, APP, GnnConfig(model=ModelConfig(hidden=8))).eval()
    fused = FusedRgcn(rgcn, list(pg.data.edge_types))
    fewer = dict(list(pg.data.edge_index_dict.items())[1:])
    with pytest.raises(ValueError, match="edge types"):
        fused.layers(pg.data.x_dict, fewer)
