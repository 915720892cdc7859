"""Saved models: round trip, champion and challenger, and schema checks."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from fraudgraph.settings import Settings
from gnn.config import GnnConfig, ModelConfig
from gnn.data import APP, build_graph
from gnn.registry import (
    ModelNotFound,
    SchemaMismatch,
    current_layout_fingerprint,
    load_challenger,
    load_champion,
    load_model,
    mark,
    model_dir,
    save_model,
)
from gnn.train import make_model
from tests.gnn.graphs import portfolio_tables

CONFIG = GnnConfig(model=ModelConfig(hidden=8))


@pytest.fixture
def saved(tmp_path: Path):  # type: ignore[no-untyped-def]
    apps, links = portfolio_tables()
    pg = build_graph(apps, links)
    model = make_model(pg.data, APP, CONFIG)
    meta = save_model(tmp_path / "models", model, CONFIG, pg.spec, 0.42,
                      {"applications": 40}, {"note": "test"}, version="v1")
    return tmp_path, pg, model, meta


def test_saved_model_reloads_with_same_outputs(saved) -> None:  # type: ignore[no-untyped-def]
    tmp_path, pg, model, meta = saved
    assert meta.schema_fingerprint == current_layout_fingerprint()
    loaded = load_model(tmp_path / "models", "v1", expect=pg.spec)
    model.eval()
    with torch.no_grad():
        before = model(pg.data.x_dict, pg.data.edge_index_dict)
        after = loaded.model(pg.data.x_dict, pg.data.edge_index_dict)
    assert torch.allclose(before, after, atol=1e-6)
    assert loaded.meta.threshold == 0.42 and loaded.meta.training["applications"] == 40


def test_mismatched_feature_schema_is_refused(saved) -> None:  # type: ignore[no-untyped-def]
    tmp_path, pg, _, _ = saved
    other = pg.spec.model_copy(deep=True)
    other.app_features = other.app_features[:-1]
    with pytest.raises(SchemaMismatch):
        load_model(tmp_path / "models", "v1", expect=other)
    # A model whose saved schema is not the one this code builds is refused too.
    meta_path = tmp_path / "models" / "v1" / "meta.json"
    text = meta_path.read_text(encoding="utf-8")
    meta_path.write_text(text.replace('"log_loan"', '"log_loan_v0"').replace(
        pg.spec.fingerprint(), other.fingerprint()), encoding="utf-8")
    with pytest.raises(SchemaMismatch):
        load_model(tmp_path / "models", "v1")


def test_champion_and_shadow_challenger(saved) -> None:  # type: ignore[no-untyped-def]
    tmp_path, pg, model, _ = saved
    settings = Settings(var_dir=tmp_path)
    assert model_dir(settings) == tmp_path / "models"
    with pytest.raises(ModelNotFound):
        load_champion(settings)
    assert load_challenger(settings) is None
    save_model(tmp_path / "models", model, CONFIG, pg.spec, 0.5, {}, {}, version="v2")
    mark(tmp_path / "models", "v1", "champion")
    mark(tmp_path / "models", "v2", "challenger")
    assert load_champion(settings).version == "v1"
    challenger = load_challenger(settings)
    assert challenger is not None and challenger.version == "v2"
    with pytest.raises(ModelNotFound):
        mark(tmp_path / "models", "v9")
    with pytest.raises(FileExistsError):
        save_model(tmp_path / "models", model, CONFIG, pg.spec, 0.5, {}, {}, version="v2")
