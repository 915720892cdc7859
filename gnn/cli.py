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
            help="Ship the GNN even if a baseline beats it.")] = False,
        challenger: Annotated[bool, typer.Option(
            help="Register the shipped model as challenger (scores in shadow beside the "
                 "champion, decides nothing), even in an empty registry.")] = False,
    ) -> None:
        """Train the GNN beside both baselines, save the versions, and give the model that
        should ship a role: the GNN if it beats both baselines on validation and test
        average precision (or --champion), else the better baseline. It becomes champion
        when the registry has none, otherwise (or with --challenger) challenger (scores in
        shadow); replacing the champion is a four-eyes `fraudgraph promote`."""
        from gnn.promotion import train_and_register
        from graph.runner import QueryRunner

        settings = get_settings()
        with QueryRunner.from_settings(settings) as runner:
            outcome = train_and_register(runner, settings, _config(epochs, config_file),
                                         candidate=champion, challenger=challenger)
        console.print(_comparison_table(outcome.comparison))
        console.print(f"saved {', '.join(outcome.saved)} in {outcome.path.parent}")
        console.print(outcome.message, highlight=False)

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
                                       fanout=settings.gnn_score_fanout, shadow=shadow,
                                       hub_cap=settings.gnn_hub_cap)
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
        """List saved model versions, what each is (GNN or baseline) and which is
        champion / challenger."""
        from gnn.registry import ModelMeta, list_versions, model_dir, role_version

        root = model_dir(get_settings())
        roles = {role_version(root, "champion"): "champion",
                 role_version(root, "challenger"): "challenger"}
        for version in list_versions(root):
            meta = ModelMeta.model_validate_json((root / version / "meta.json").read_text())
            console.print(f"{version}  {meta.kind}  {roles.get(version, '')}")

    @app.command("promote")
    def promote_cmd(
        version: Annotated[str, typer.Argument(help="Model version.")],
        challenger: Annotated[bool, typer.Option(help="Make it the challenger.")] = False,
        approval: Annotated[str | None, typer.Option(
            help="An approved four-eyes request (action promote_model, params.version).")
                            ] = None,
    ) -> None:
        """Make a saved version the champion (four eyes: `fraudgraph approvals request
        promote_model --param version=V`, approved by another person) or the shadow
        challenger (no approval: a challenger decides nothing)."""
        from gnn.promotion import PromotionRefused, check_promotion
        from gnn.registry import load_model, mark, model_dir
        from graph.runner import QueryRunner

        settings = get_settings()
        root = model_dir(settings)
        load_model(root, version)  # refuses a schema this code cannot score
        if not challenger:
            try:
                with QueryRunner.from_settings(settings) as runner:
                    check_promotion(runner, root, version, approval)
            except PromotionRefused as exc:
                console.print(f"[red]error:[/red] {exc}", highlight=False)
                raise typer.Exit(2) from None
        mark(root, version, "challenger" if challenger else "champion")
        console.print(f"{version} is now {'challenger' if challenger else 'champion'}")
