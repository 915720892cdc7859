"""`fraudgraph` commands of the gnn package: train, evaluate, score, score-portfolio,
models, promote. Torch and the models load inside the commands, so `--help` stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fraudgraph.settings import get_settings

console = Console()


def _comparison_table(comparison) -> Table:  # type: ignore[no-untyped-def]
    table = Table("model", "split", "n", "fraud", "ROC-AUC", "avg precision", "recall@1%",
                  "threshold", "train s")

    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.4f}"

    for name, fig in comparison.models.items():
        for split_name, m in (("val", fig.val), ("test", fig.test), *fig.extra.items()):
            table.add_row(name, split_name, str(m.n), str(m.positives), fmt(m.roc_auc),
                          fmt(m.average_precision), fmt(m.recall_at_1pct),
                          f"{fig.threshold:.3f}", f"{fig.train_seconds:.1f}")
    return table


def _config(epochs: int | None, config_file: Path | None):  # type: ignore[no-untyped-def]
    from gnn.config import GnnConfig

    config = (GnnConfig.model_validate_json(config_file.read_text(encoding="utf-8"))
              if config_file else GnnConfig())
    if epochs is not None:
        config.train.epochs = epochs
    return config


def register(app: typer.Typer) -> None:
    """Add this package's commands to the `fraudgraph` command line."""

    @app.command("evaluate")
    def evaluate_cmd(
        epochs: Annotated[int | None, typer.Option(help="GNN epochs (default: config).")] = None,
        config_file: Annotated[Path | None, typer.Option(help="GnnConfig as JSON.")] = None,
        json_out: Annotated[Path | None, typer.Option(help="Write the figures here.")] = None,
    ) -> None:
        """Train the GNN and both LightGBM baselines on a time split; print their figures."""
        from gnn.data import load_graph
        from gnn.evaluate import evaluate
        from graph.runner import QueryRunner

        with QueryRunner.from_settings(get_settings()) as runner:
            pg = load_graph(runner)
        run = evaluate(pg, _config(epochs, config_file))
        console.print(_comparison_table(run.comparison))
        console.print(f"split {run.comparison.split}; best on test AP: {run.comparison.best}")
        if json_out:
            json_out.write_text(run.comparison.model_dump_json(indent=2), encoding="utf-8")

    @app.command("train")
    def train_cmd(
        epochs: Annotated[int | None, typer.Option(help="GNN epochs (default: config).")] = None,
        config_file: Annotated[Path | None, typer.Option(help="GnnConfig as JSON.")] = None,
        champion: Annotated[bool, typer.Option(
            help="Mark the new model champion even if a baseline beats it.")] = False,
        challenger: Annotated[bool, typer.Option(
            help="Mark the new model challenger (scores in shadow).")] = False,
    ) -> None:
        """Train, compare with the baselines, save a new model version; it becomes champion
        only if it beats both baselines on test average precision (or with --champion)."""
        from gnn.data import load_graph
        from gnn.evaluate import evaluate
        from gnn.registry import mark, model_dir, save_model
        from graph.runner import QueryRunner

        settings = get_settings()
        with QueryRunner.from_settings(settings) as runner:
            pg = load_graph(runner)
        config = _config(epochs, config_file)
        run = evaluate(pg, config)
        console.print(_comparison_table(run.comparison))
        split = pg.split
        assert split is not None  # evaluate() refused an unlabelled graph
        training = {"applications": len(pg.apps), **run.comparison.split,
                    "val_from_epoch_s": split.val_from, "test_from_epoch_s": split.test_from,
                    "nodes": {t: int(pg.data[t].num_nodes) for t in pg.data.node_types},
                    "best_epoch": run.gnn.best_epoch}
        root = model_dir(settings)
        meta = save_model(root, run.gnn.model, config, pg.spec, run.gnn.threshold, training,
                          run.comparison.model_dump())
        console.print(f"saved model {meta.version} in {root / meta.version}")
        if challenger:
            mark(root, meta.version, "challenger")
            console.print(f"{meta.version} is the challenger (shadow)")
        if run.comparison.gnn_is_champion or champion:
            mark(root, meta.version, "champion")
            console.print(f"{meta.version} is the champion")
        else:
            console.print(f"[yellow]the GNN does not beat both baselines "
                          f"({run.comparison.best} is better on test AP): not champion; "
                          f"ship the baseline or pass --champion[/yellow]")

    @app.command("score")
    def score_cmd(
        application_id: Annotated[str, typer.Argument(help="Application to score.")],
    ) -> None:
        """Score one application with the champion (challenger in shadow); print reasons."""
        from gnn.registry import load_challenger, load_champion
        from gnn.score import score_application
        from graph.runner import QueryRunner

        settings = get_settings()
        model, shadow = load_champion(settings), load_challenger(settings)
        with QueryRunner.from_settings(settings) as runner:
            result = score_application(runner, application_id, model,
                                       fanout=settings.gnn_score_fanout, shadow=shadow)
        console.print_json(result.model_dump_json())

    @app.command("score-portfolio")
    def score_portfolio_cmd(
        version: Annotated[str | None, typer.Option(help="Model version (default: champion).")
                           ] = None,
    ) -> None:
        """Write gnn_score and gnn_model_version onto every application (challenger in
        shadow as gnn_shadow_score)."""
        from gnn.registry import load_challenger, load_champion, load_model, model_dir
        from gnn.score import score_portfolio
        from graph.runner import QueryRunner

        settings = get_settings()
        model = (load_model(model_dir(settings), version) if version
                 else load_champion(settings))
        shadow = None if version else load_challenger(settings)
        with QueryRunner.from_settings(settings) as runner:
            count = score_portfolio(runner, model, shadow=shadow)
        console.print(f"scored {count} applications with {model.version}")

    @app.command("models")
    def models_cmd() -> None:
        """List saved model versions and which is champion / challenger."""
        from gnn.registry import list_versions, model_dir, role_version

        root = model_dir(get_settings())
        roles = {role_version(root, "champion"): "champion",
                 role_version(root, "challenger"): "challenger"}
        for version in list_versions(root):
            console.print(f"{version}  {roles.get(version, '')}")

    @app.command("promote")
    def promote_cmd(
        version: Annotated[str, typer.Argument(help="Model version.")],
        challenger: Annotated[bool, typer.Option(help="Make it the challenger.")] = False,
    ) -> None:
        """Make a saved version the champion (or the shadow challenger)."""
        from gnn.registry import load_model, mark, model_dir

        root = model_dir(get_settings())
        load_model(root, version)  # refuses a schema this code cannot score
        mark(root, version, "challenger" if challenger else "champion")
        console.print(f"{version} is now {'challenger' if challenger else 'champion'}")
