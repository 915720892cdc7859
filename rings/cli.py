"""`fraudgraph` commands of the rings package: detect, evaluate-rings, ring-score, export.

Heavy libraries (igraph, scipy, matplotlib, reportlab) are imported inside the commands so
`fraudgraph --help` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fraudgraph.settings import Settings, get_settings

console = Console()
export_app = typer.Typer(help="Export rings, ring reports and per-application scores.",
                         no_args_is_help=True)

EXIT_NO_RUN = 2
EXIT_DATABASE = 3


def _config(settings: Settings, path: Path | None):  # type: ignore[no-untyped-def]
    from rings.config import RingConfigError, load_config

    try:
        return load_config(path or settings.ring_config_file)
    except RingConfigError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None


def _runner(settings: Settings):  # type: ignore[no-untyped-def]
    from graph.runner import QueryRunner

    return QueryRunner.from_settings(settings)


ConfigOption = Annotated[Path | None, typer.Option(
    "--config", help="Ring config (TOML/JSON); default FRAUDGRAPH_RING_CONFIG or built-in.")]
RunOption = Annotated[str | None, typer.Option("--run", help="Detection run id; default latest.")]


def detect(config_file: ConfigOption = None,
           write: Annotated[bool, typer.Option(help="Write rings back to Neo4j.")] = True,
           top: Annotated[int, typer.Option(help="Rings to list.")] = 10) -> None:
    """Find candidate rings in the whole graph, score them and write them to Neo4j."""
    from graph.runner import DatabaseUnavailable, QueryError
    from rings.detect import peak_rss_mb, run_detection

    settings = get_settings()
    config = _config(settings, config_file)
    try:
        with _runner(settings) as runner:
            result = run_detection(runner, config, write=write)
    except (DatabaseUnavailable, QueryError) as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(EXIT_DATABASE) from None
    table = Table("ring", "score", "size", "top reasons")
    ranked = sorted(zip(result.rings, result.ring_ids, strict=True), key=lambda x: -x[0].score)
    for ring, ring_id in ranked[:top]:
        table.add_row(ring_id, f"{ring.score:.1f}", str(len(ring.members)),
                      "; ".join(ring.reason_texts[:2]))
    console.print(table)
    console.print(f"run {result.run_id}{'' if write else ' (not written)'}: "
                  f"{json.dumps(result.counts)}")
    console.print(f"timings (s): {json.dumps(result.timings)}; peak memory "
                  f"{peak_rss_mb():.0f} MiB")


def evaluate_rings(
    truth: Annotated[Path, typer.Option(help="Portfolio folder with truth/applications.csv.")],
    run: RunOption = None, config_file: ConfigOption = None,
    out: Annotated[Path | None, typer.Option(help="Also write the figures as JSON.")] = None,
) -> None:
    """Compare a stored detection run with a generated portfolio's ground truth."""
    from rings.evaluate import evaluate, read_truth
    from rings.runs import NoDetectionRun, memberships

    settings = get_settings()
    config = _config(settings, config_file)
    try:
        with _runner(settings) as runner:
            stored, rings, scores = memberships(runner, run)
    except NoDetectionRun as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_NO_RUN) from None
    figures = evaluate(read_truth(truth), rings, scores, config.alert_threshold)
    text = figures.model_dump_json(indent=2)
    console.print(f"run {stored['run_id']}")
    console.print_json(text)
    if out:
        out.write_text(text, encoding="utf-8")


def ring_score(application_id: Annotated[str, typer.Argument(help="Application id.")],
               config_file: ConfigOption = None) -> None:
    """Score one application against the latest run's rings (joins, bridges, new ring)."""
    from rings.incremental import score_application

    settings = get_settings()
    with _runner(settings) as runner:
        match = score_application(runner, application_id, _config(settings, config_file))
    console.print_json(match.model_dump_json())


@export_app.command("rings")
def export_rings(
    out: Annotated[Path, typer.Option(help="Output folder.")],
    formats: Annotated[str, typer.Option(
        "--format", help="Comma-separated: csv,xlsx,json,graphml,gexf,html,pdf.")] = "csv",
    run: RunOption = None,
    ring: Annotated[list[str] | None, typer.Option(help="Ring id(s) for reports.")] = None,
    top: Annotated[int, typer.Option(help="Reports for the top N rings by score.")] = 10,
    config_file: ConfigOption = None,
) -> None:
    """Rings and members for analysts and Gephi, and one report per ring (HTML/PDF)."""
    from rings import export, report
    from rings.runs import PORTFOLIO_CONCENTRATION, NoDetectionRun, load_run

    wanted = [f.strip().lower() for f in formats.split(",") if f.strip()]
    unknown = set(wanted) - set(export.ALL_FORMATS)
    if unknown:
        console.print(f"[red]error:[/red] unknown format(s) {sorted(unknown)}; expected "
                      f"{', '.join(export.ALL_FORMATS)}")
        raise typer.Exit(2)
    settings = get_settings()
    config = _config(settings, config_file)
    written: list[Path] = []
    try:
        with _runner(settings) as runner:
            data = load_run(runner, run, grace_days=config.fpd_grace_days)
            ring_ids = ring or list(data.rings["ring_id"][:top]) if len(data.rings) else []
            concentration = None
            if any(f in export.REPORT_FORMATS for f in wanted) and ring_ids:
                chosen = data.members[data.members["ring_id"].isin(ring_ids)]
                import pandas as pd

                concentration = pd.DataFrame(runner.read(
                    PORTFOLIO_CONCENTRATION, dealers=sorted(set(chosen["dealer_id"].dropna())),
                    agents=sorted(set(chosen["sales_agent_id"].dropna()))))
    except NoDetectionRun as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_NO_RUN) from None
    for fmt in wanted:
        if fmt in export.TABULAR_FORMATS:
            written += export.write_tabular(data, out, fmt)
        elif fmt in export.GRAPH_FORMATS:
            written += export.write_graph(data, out, fmt)
        else:
            written += report.write_ring_reports(data, out, fmt, ring_ids, concentration,
                                                 config.alert_threshold)
    console.print(f"run {data.run['run_id']}: {len(data.rings)} rings; wrote "
                  f"{len(written)} file(s) to {out}")


@export_app.command("scores")
def export_scores(out: Annotated[Path, typer.Option(help="Output file (.csv/.xlsx/.json).")],
                  run: RunOption = None) -> None:
    """One row per application: ring id, ring score, reasons, and the gnn_score column."""
    from rings.export import write_scores
    from rings.runs import NoDetectionRun, application_scores

    try:
        with _runner(get_settings()) as runner:
            frame = application_scores(runner, run)
    except NoDetectionRun as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_NO_RUN) from None
    write_scores(frame, out)
    console.print(f"{len(frame)} applications, {frame['ring_id'].notna().sum()} in rings: {out}")


def register(app: typer.Typer) -> None:
    """Add this package's commands to the `fraudgraph` command line."""
    app.command("detect")(detect)
    app.command("evaluate-rings")(evaluate_rings)
    app.command("ring-score")(ring_score)
    app.add_typer(export_app, name="export")
