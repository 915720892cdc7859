"""Versioned models on disk: ``<model_dir>/<version>/model.pt`` + ``meta.json``.

``meta.json`` holds the config, the feature schema (``FeatureSpec``), a summary of the
training data and the evaluation figures. ``kind`` says what the weights are: the GNN
(``model.pt``) or one of the LightGBM baselines (``model.txt``, with its feature names),
so a baseline that beats the GNN can be shipped and scored like it. ``champion.json`` /
``challenger.json`` in the model folder name the version that scores for real and the one
that scores in shadow beside it. Loading rebuilds the model from the saved schema and
refuses one whose schema differs from the graph this code builds (or the one it is given).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import lightgbm as lgb
import torch
from pydantic import BaseModel

from fraudgraph.settings import Settings
from gnn.baselines import GBT_NEIGHBOURS, GBT_OWN, GbtModel, gbt_feature_names
from gnn.config import GnnConfig
from gnn.data import APP, GRAPH_RELS, edge_types
from gnn.features import NODE_FEATURES, FeatureSpec, app_feature_names
from gnn.model import HeteroGnn

Role = Literal["champion", "challenger"]
GNN = "gnn"
ModelKind = Literal["gnn", "gbt_own", "gbt_neighbours"]


class SchemaMismatch(ValueError):
    """A model's feature schema is not the one of the graph it is asked to score."""


class ModelNotFound(FileNotFoundError):
    """No model under that version or role."""


class ModelMeta(BaseModel):
    """Everything saved beside a model's weights."""

    version: str
    created_at: str
    target: str
    threshold: float
    config: GnnConfig
    spec: FeatureSpec
    schema_fingerprint: str
    training: dict[str, Any]
    metrics: dict[str, Any]
    kind: ModelKind = "gnn"
    #: Baselines only: the booster's input columns, in order.
    feature_names: list[str] = []


@dataclass
class LoadedModel:
    """A model ready to score (the GNN, or a LightGBM baseline), with its metadata."""

    model: HeteroGnn | lgb.Booster
    meta: ModelMeta
    #: What scoring keeps between calls for this model (its fused network).
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return self.meta.version

    @property
    def kind(self) -> ModelKind:
        return self.meta.kind

    @property
    def spec(self) -> FeatureSpec:
        return self.meta.spec

    def check(self, spec: FeatureSpec) -> None:
        """Raise ``SchemaMismatch`` unless ``spec`` has this model's input layout."""
        if spec.fingerprint() != self.meta.schema_fingerprint:
            raise SchemaMismatch(
                f"model {self.version} expects feature schema {self.meta.schema_fingerprint}, "
                f"got {spec.fingerprint()} (node types {spec.node_types}, "
                f"{len(spec.app_features)} application features)")


def model_dir(settings: Settings) -> Path:
    return settings.gnn_model_dir or settings.var_dir / "models"


def current_layout_fingerprint(rings: bool = False) -> str:
    """Fingerprint of the input layout this code's ``build_graph`` produces (with or
    without the ring features)."""
    link_rels = [rel.value for rel in GRAPH_RELS]
    spec = FeatureSpec(
        app_type=APP, app_features=app_feature_names(link_rels, rings),
        node_features=list(NODE_FEATURES),
        node_types=[APP, *dict.fromkeys(lb.value for lb in GRAPH_RELS.values())],
        edge_types=edge_types(), link_rels=link_rels, model_price_median={}, mean={}, std={})
    return spec.fingerprint()


def new_version(spec: FeatureSpec, kind: ModelKind = "gnn") -> str:
    stamp = time.strftime('%Y%m%dT%H%M%S', time.gmtime())
    return f"{kind.replace('_', '-')}-{stamp}-{spec.fingerprint()[:6]}"


def _free_version(root: Path, spec: FeatureSpec, kind: ModelKind) -> str:
    """A new version name not taken in ``root`` (two saved within one second differ by a
    suffix)."""
    base = new_version(spec, kind)
    version, n = base, 1
    while (root / version).exists():
        n += 1
        version = f"{base}-{n}"
    return version


def _new_folder(root: Path, version: str) -> Path:
    folder = root / version
    if folder.exists():
        raise FileExistsError(f"model version {version} already exists in {root}")
    folder.mkdir(parents=True)
    return folder


def save_model(root: Path, model: HeteroGnn, config: GnnConfig, spec: FeatureSpec,
               threshold: float, training: dict[str, Any], metrics: dict[str, Any],
               version: str | None = None) -> ModelMeta:
    """Write a new version folder; returns its metadata."""
    version = version or _free_version(root, spec, GNN)
    folder = _new_folder(root, version)
    meta = ModelMeta(
        version=version, created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        target=model.target, threshold=threshold, config=config, spec=spec,
        schema_fingerprint=spec.fingerprint(), training=training, metrics=metrics)
    torch.save(model.state_dict(), folder / "model.pt")
    (folder / "meta.json").write_text(meta.model_dump_json(indent=2), encoding="utf-8")
    return meta


def save_gbt(root: Path, gbt: GbtModel, kind: ModelKind, config: GnnConfig,
             spec: FeatureSpec, training: dict[str, Any], metrics: dict[str, Any],
             version: str | None = None) -> ModelMeta:
    """Write a LightGBM baseline as a new version (``model.txt`` + ``meta.json``)."""
    if kind == GNN:
        raise ValueError("save_gbt saves the LightGBM baselines; use save_model for the GNN")
    version = version or _free_version(root, spec, kind)
    folder = _new_folder(root, version)
    meta = ModelMeta(
        version=version, created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        target=spec.app_type, threshold=gbt.threshold, config=config, spec=spec,
        schema_fingerprint=spec.fingerprint(), training=training, metrics=metrics,
        kind=kind, feature_names=gbt.feature_names)
    gbt.booster.booster_.save_model(str(folder / "model.txt"))
    (folder / "meta.json").write_text(meta.model_dump_json(indent=2), encoding="utf-8")
    return meta


def _load_gbt(folder: Path, meta: ModelMeta) -> lgb.Booster:
    """The booster, refused unless its columns are the ones this code computes."""
    expected = gbt_feature_names(meta.kind, meta.spec.link_rels,
                                 meta.spec.has_ring_features)
    if meta.feature_names != expected:
        raise SchemaMismatch(f"model {meta.version} ({meta.kind}) was trained on features "
                             f"{meta.feature_names}; this code computes {expected}: retrain it")
    booster = lgb.Booster(model_file=str(folder / "model.txt"))
    if booster.feature_name() != [n.replace(" ", "_") for n in expected]:
        raise SchemaMismatch(f"model {meta.version}: model.txt's features "
                             f"{booster.feature_name()} disagree with meta.json")
    return booster


def load_model(root: Path, version: str, expect: FeatureSpec | None = None,
               check_code: bool = True) -> LoadedModel:
    """Load one version; refuse it if its schema differs from ``expect`` or (with
    ``check_code``) from the graph layout this code builds."""
    folder = root / version
    if not (folder / "meta.json").is_file():
        raise ModelNotFound(f"no model {version!r} in {root}")
    meta = ModelMeta.model_validate_json((folder / "meta.json").read_text(encoding="utf-8"))
    if meta.spec.fingerprint() != meta.schema_fingerprint:
        raise SchemaMismatch(f"model {version}: meta.json's schema and fingerprint disagree")
    if check_code and meta.spec.app_type == APP and meta.schema_fingerprint != \
            current_layout_fingerprint(meta.spec.has_ring_features):
        raise SchemaMismatch(
            f"model {version} was trained on feature schema {meta.schema_fingerprint}; this "
            f"code builds {current_layout_fingerprint(meta.spec.has_ring_features)}: "
            "retrain it")
    if meta.kind in (GBT_OWN, GBT_NEIGHBOURS):
        loaded = LoadedModel(_load_gbt(folder, meta), meta)
        if expect is not None:
            loaded.check(expect)
        return loaded
    in_dims = {t: (len(meta.spec.app_features) if t == meta.spec.app_type
                   else len(meta.spec.node_features)) for t in meta.spec.node_types}
    model = HeteroGnn(in_dims, [tuple(e) for e in meta.spec.edge_types], meta.target,
                       meta.config.model)
    state = torch.load(folder / "model.pt", map_location="cpu", weights_only=True)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise SchemaMismatch(f"model {version}: weights do not fit its schema: {exc}") from exc
    model.eval()
    loaded = LoadedModel(model, meta)
    if expect is not None:
        loaded.check(expect)
    return loaded


def list_versions(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "meta.json").is_file())


def mark(root: Path, version: str, role: Role = "champion") -> None:
    """Make ``version`` the champion (or the shadow challenger)."""
    if not (root / version / "meta.json").is_file():
        raise ModelNotFound(f"no model {version!r} in {root}")
    (root / f"{role}.json").write_text(json.dumps({"version": version}), encoding="utf-8")


def role_version(root: Path, role: Role) -> str | None:
    path = root / f"{role}.json"
    if not path.is_file():
        return None
    return str(json.loads(path.read_text(encoding="utf-8"))["version"])


def load_role(settings: Settings, role: Role) -> LoadedModel:
    root = model_dir(settings)
    version = role_version(root, role)
    if version is None:
        raise ModelNotFound(f"no {role} model in {root}; run `fraudgraph train` first")
    return load_model(root, version)


def load_champion(settings: Settings) -> LoadedModel:
    """The model that scores for real (schema checked against this code)."""
    return load_role(settings, "champion")


def load_challenger(settings: Settings) -> LoadedModel | None:
    """The shadow model, or None when there is none."""
    try:
        return load_role(settings, "challenger")
    except ModelNotFound:
        return None
