"""Promoting a model to champion is a four-eyes action (domain notes): the first champion
of an empty registry bootstraps; every later one needs an approved request."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fraudgraph.settings import Settings
from gnn.config import GnnConfig
from gnn.registry import role_version
from graph.runner import QueryRunner
from lifecycle.approvals import Action, require_approved
from lifecycle.errors import LifecycleError


class PromotionRefused(RuntimeError):
    """A promotion without the approval the four-eyes rule asks for."""


def check_promotion(runner: QueryRunner, root: Path, version: str,
                    approval_id: str | None) -> None:
    """Raise ``PromotionRefused`` unless ``version`` may become champion now."""
    if role_version(root, "champion") is None:
        return  # nothing to replace: the first model bootstraps the registry
    if approval_id is None:
        raise PromotionRefused(
            f"promoting {version} replaces the champion: request four eyes with "
            f"`fraudgraph approvals request promote_model --param version={version}` and "
            "pass the approved id as --approval")
    try:
        approval = require_approved(runner, approval_id, Action.PROMOTE_MODEL)
    except LifecycleError as exc:
        raise PromotionRefused(str(exc)) from None
    if approval.params.get("version") != version:
        raise PromotionRefused(f"approval {approval_id} is for version "
                               f"{approval.params.get('version')!r}, not {version!r}")


@dataclass(frozen=True)
class TrainOutcome:
    version: str  # the version given a role (the shipped model), or the GNN's
    path: Path
    role: str  # "champion", "challenger" or "" (saved only)
    message: str
    comparison: Any
    kind: str = "gnn"  # what ``version`` is: the GNN or the baseline that beat it
    saved: tuple[str, ...] = ()  # every version this run saved


def train_and_register(runner: QueryRunner, settings: Settings, config: GnnConfig, *,
                       candidate: bool = False, challenger: bool = False) -> TrainOutcome:
    """Build the graph from Neo4j, train the GNN beside both baselines on one time split,
    save the model with its config, feature schema, data summary and metrics, and give the
    model that should ship the role the rules allow (see ``check_promotion``).

    The GNN ships when it beats both baselines (``gnn.evaluate.to_ship``), or with
    ``candidate``; otherwise the better baseline is saved too and ships in its place.
    With ``challenger`` the shipped model is made the challenger even when the registry
    has no champion yet (a champion is then promoted separately).
    """
    from gnn.data import load_graph
    from gnn.evaluate import GNN, evaluate

    pg = load_graph(runner)
    run = evaluate(pg, config)
    ship = GNN if candidate else run.comparison.ship
    return register_run(settings, pg, run, config, ship, challenger=challenger)


def register_run(settings: Settings, pg: Any, run: Any, config: GnnConfig,
                 ship: str, *, challenger: bool = False) -> TrainOutcome:
    """Save the GNN of an evaluation run (and the baseline ``ship`` names, if it is one)
    and mark the shipped model champion (first model) or challenger (any later one, or
    any with ``challenger``)."""
    from gnn.evaluate import GNN
    from gnn.registry import mark, model_dir, save_gbt, save_model

    split = pg.split
    assert split is not None  # evaluate() refused an unlabelled graph
    training = {"applications": len(pg.apps), **run.comparison.split,
                "val_from_epoch_s": split.val_from, "test_from_epoch_s": split.test_from,
                "nodes": {t: int(pg.data[t].num_nodes) for t in pg.data.node_types},
                "best_epoch": run.gnn.best_epoch}
    root = model_dir(settings)
    metrics = run.comparison.model_dump()
    gnn_meta = save_model(root, run.gnn.model, config, pg.spec, run.gnn.threshold, training,
                          metrics)
    meta = gnn_meta
    if ship != GNN:
        meta = save_gbt(root, getattr(run, ship), ship, config, pg.spec, training, metrics)
    saved = tuple(dict.fromkeys((gnn_meta.version, meta.version)))
    why = ("" if ship == GNN else
           f"the GNN does not beat both baselines; {ship} ships in its place ({meta.version})"
           f" and the GNN is saved as {gnn_meta.version}. ")
    if role_version(root, "champion") is None and not challenger:
        mark(root, meta.version, "champion")
        role, message = "champion", f"{why}{meta.version} is the champion (first model)"
    else:
        mark(root, meta.version, "challenger")
        role = "challenger"
        message = (f"{why}{meta.version} is the challenger (scores in shadow); replacing the "
                   "champion needs four eyes: `fraudgraph approvals request promote_model "
                   f"--param version={meta.version}`, then `fraudgraph promote "
                   f"{meta.version} --approval ID`")
    return TrainOutcome(meta.version, root / meta.version, role, message, run.comparison,
                        kind=ship, saved=saved)
