"""The `fraudgraph` command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fraudgraph.logs import configure
from fraudgraph.settings import Settings, get_settings

app = typer.Typer(help="Graph-based anti-fraud platform for auto-loan lending.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False)
neo4j_app = typer.Typer(help="Run the project's own Neo4j 5.26 (no Docker needed).",
                        no_args_is_help=True)
db_app = typer.Typer(help="Database schema and contents.", no_args_is_help=True)
app.add_typer(neo4j_app, name="neo4j")
app.add_typer(db_app, name="db")
console = Console()

# Packages that add their own commands: each has a `cli.py` with `register(app)`, whose
# commands import their heavy dependencies (igraph, torch) only when they run.
_COMMAND_MODULES = ("rings.cli", "gnn.cli", "lifecycle.cli", "api.cli")


@app.callback()
def _main(log_level: Annotated[str, typer.Option(help="Log level.")] = "INFO") -> None:
    configure(log_level.upper())


def _runner(settings: Settings):  # type: ignore[no-untyped-def]
    from graph.runner import QueryRunner

    return QueryRunner.from_settings(settings)


def _fail(message: str, code: int) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


# ------------------------------------------------------------------ neo4j


@neo4j_app.command("start")
def neo4j_start() -> None:
    """Start Neo4j (idempotent); with NEO4J_URI set, only check that server answers."""
    from graph import server

    try:
        state = server.start(get_settings())
    except server.ServerError as exc:
        raise _fail(str(exc), 1) from None
    console.print(f"Neo4j {state.detail} at {state.uri} (pid {state.pid}, data {state.home})")


@neo4j_app.command("stop")
def neo4j_stop() -> None:
    """Stop the project's Neo4j; its data stays for the next start."""
    from graph import server

    try:
        state = server.stop(get_settings())
    except server.ServerError as exc:
        raise _fail(str(exc), 1) from None
    console.print(f"Neo4j {state.detail} ({state.uri})")


@neo4j_app.command("status")
def neo4j_status() -> None:
    """Say whether Neo4j runs; exit 0 when it answers, 1 when it does not."""
    from graph import server

    state = server.status(get_settings())
    console.print(f"Neo4j {state.detail} at {state.uri} (pid {state.pid})")
    raise typer.Exit(0 if state.running else 1)


# ------------------------------------------------------------------ db


@db_app.command("init")
def db_init() -> None:
    """Create the constraints and indexes (idempotent)."""
    from graph.constraints import ensure_schema

    with _runner(get_settings()) as runner:
        count = ensure_schema(runner)
    console.print(f"schema ready: {count} constraints and indexes")


@db_app.command("stats")
def db_stats() -> None:
    """Count nodes per label and relationships per type."""
    from graph.stats import graph_counts

    with _runner(get_settings()) as runner:
        nodes, rels = graph_counts(runner)
    _print_counts(nodes, rels)


def _print_counts(nodes: dict[str, int], rels: dict[str, int]) -> None:
    table = Table("label", "nodes", "relationship", "count")
    node_items, rel_items = list(nodes.items()), list(rels.items())
    for i in range(max(len(node_items), len(rel_items))):
        n = node_items[i] if i < len(node_items) else ("", "")
        r = rel_items[i] if i < len(rel_items) else ("", "")
        table.add_row(n[0], str(n[1]), r[0], str(r[1]))
    console.print(table)


# ------------------------------------------------------------------ data


@app.command("generate")
def generate(
    out: Annotated[Path, typer.Argument(help="Folder to write the export into.")],
    applications: Annotated[int, typer.Option(min=1, help="Number of applications.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same files.")] = 7,
    fmt: Annotated[str, typer.Option("--format", help="csv, parquet or jsonl.")] = "csv",
) -> None:
    """Write a synthetic portfolio in the contract format, with ground truth in OUT/truth/."""
    from synthetic import generate_portfolio

    summary = generate_portfolio(out, applications=applications, seed=seed, fmt=fmt)
    console.print(summary)


@app.command("ingest")
def ingest(
    source: Annotated[Path, typer.Argument(help="Export folder (data contract v1).")],
    batch_size: Annotated[int | None, typer.Option(help="Rows per transaction.")] = None,
    report_dir: Annotated[Path | None, typer.Option(help="Where run reports go.")] = None,
    bulk: Annotated[bool, typer.Option(
        help="First load into an empty database: dealers and applications through Neo4j's "
             "offline importer (the project's own server is stopped and restarted).")] = False,
    workers: Annotated[int | None, typer.Option(
        min=0, help="Validation processes (0: in this process). Default: 0, or 2 with "
                    "--bulk, where Neo4j is stopped while rows are validated.")] = None,
) -> None:
    """Load an export folder. Exit 0: all rows loaded; 1: some rows quarantined;
    2: a file could not be read, or --bulk refused (nothing written); 3: Neo4j or its
    importer failed; 4: a validation worker died. After 3 or 4, re-run the same command."""
    from graph.privacy import KeyConfigError, Pseudonymiser
    from graph.runner import DatabaseUnavailable, QueryError
    from graph.server import ServerError
    from ingest.bulk import BulkLoadError, BulkRefused, BulkTarget
    from ingest.errors import ContractFileError
    from ingest.pipeline import ingest_folder
    from ingest.report import EXIT_BAD_FILE, EXIT_DATABASE, EXIT_STOPPED
    from ingest.validate import ValidationWorkerError

    settings = get_settings()
    try:
        pseudo = Pseudonymiser(settings.hash_key.get_secret_value(),
                               settings.encryption_key.get_secret_value())
    except KeyConfigError as exc:
        raise _fail(str(exc), EXIT_DATABASE) from None
    try:
        with _runner(settings) as runner:
            runs = report_dir or settings.var_dir / "ingest"
            report = ingest_folder(source, runner, pseudo, runs,
                                   batch_size=batch_size or settings.ingest_batch_size,
                                   progress=True, bulk=BulkTarget(settings) if bulk else None,
                                   workers=(2 if bulk else 0) if workers is None else workers)
    except ContractFileError as exc:
        raise _fail(f"{exc} (nothing was written)", EXIT_BAD_FILE) from None
    except BulkRefused as exc:
        raise _fail(str(exc), EXIT_BAD_FILE) from None
    except (DatabaseUnavailable, QueryError, ServerError, BulkLoadError) as exc:
        raise _fail(str(exc), EXIT_DATABASE) from None
    except ValidationWorkerError as exc:
        raise _fail(str(exc), EXIT_STOPPED) from None
    _print_report(report)
    raise typer.Exit(report.exit_status)


def _print_report(report) -> None:  # type: ignore[no-untyped-def]
    table = Table("table", "read", "loaded", "updated", "unchanged", "quarantined", "warnings")
    for name, c in report.tables.items():
        table.add_row(name, str(c.read), str(c.loaded), str(c.updated), str(c.unchanged),
                      str(c.quarantined), json.dumps(c.field_warnings, ensure_ascii=False))
    console.print(table)
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    if report.placeholder_dealers:
        console.print(f"[yellow]warning:[/yellow] placeholder dealers for unknown ids: "
                      f"{', '.join(report.placeholder_dealers[:20])}")
    if report.bulk_import:
        steps = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in report.steps.items())
        console.print(f"bulk load ({steps}): {report.bulk_import}", highlight=False)
    console.print(f"{report.relationships_created} relationships created in "
                  f"{report.duration_s:.1f}s; report: {report.report_path}")
    for table_name, path in report.quarantine_files.items():
        console.print(f"quarantined {table_name} rows: {path}")


@app.command("demo")
def demo(
    applications: Annotated[int, typer.Option(min=100, help="Portfolio size.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    serve: Annotated[bool, typer.Option(help="Serve the API and the console at the end.")
                     ] = True,
) -> None:
    """The main job: Neo4j, a generated portfolio loaded, rings detected, the GNN trained
    and scored, then the API and the console served."""
    from fraudgraph.demo import run_demo

    raise typer.Exit(run_demo(get_settings(), console, applications=applications, seed=seed,
                              serve=serve))


def _register_packages() -> None:
    import importlib

    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(app)


_register_packages()
