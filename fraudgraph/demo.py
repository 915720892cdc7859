"""The main job, end to end: Neo4j up, a portfolio generated and loaded, a first query."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from fraudgraph.settings import Settings
from graph import server
from graph.privacy import Pseudonymiser
from graph.runner import Query, QueryRunner
from graph.stats import graph_counts
from ingest.pipeline import ingest_folder

SHARED_DEVICES = Query(
    "demo.shared_devices",
    """
    MATCH (d:Device)<-[:SUBMITTED_FROM_DEVICE]-(a:Application)
    WITH d, collect(a.application_id) AS apps
    WHERE size(apps) >= 2 AND size(apps) <= 10
    RETURN d.key AS device, size(apps) AS applications, apps[..5] AS sample
    ORDER BY applications DESC, device LIMIT 5
    """,
)

TRY_QUERY = """MATCH (p:Phone)<-[r]-(a:Application)
WITH p, collect(DISTINCT type(r)) AS roles, count(DISTINCT a) AS apps
WHERE apps >= 3 AND 'APPLICANT_PHONE' IN roles AND 'EMPLOYER_PHONE' IN roles
RETURN p.masked AS phone, roles, apps ORDER BY apps DESC LIMIT 10"""


def _portfolio(settings: Settings, console: Console, applications: int, seed: int) -> Path:
    from synthetic import generate_portfolio

    folder = settings.var_dir / "demo" / f"portfolio-{applications}-{seed}"
    if not (folder / "applications.csv").exists():
        console.print(f"generating {applications} applications (seed {seed}) into {folder}")
        generate_portfolio(folder, applications=applications, seed=seed)
    return folder


def run_demo(settings: Settings, console: Console, *, applications: int, seed: int,
             serve: bool = True) -> int:
    """Run the demo; returns the process exit status."""
    state = server.start(settings)
    console.print(f"Neo4j {state.detail} at {state.uri}")
    folder = _portfolio(settings, console, applications, seed)
    pseudo = Pseudonymiser(settings.hash_key.get_secret_value(),
                           settings.encryption_key.get_secret_value())
    with QueryRunner.from_settings(settings) as runner:
        _load(runner, pseudo, folder, settings, console)
        _detect(runner, settings, console)
        _train(runner, settings, console)
        users = _demo_users(runner, settings)
    console.print(f"\nNeo4j answers at {settings.bolt_uri} (user {settings.neo4j_user}, "
                  f"password in var/fraudgraph.env). A query to try, in cypher-shell or the "
                  f"Python driver:\n\n{TRY_QUERY}\n", markup=False, highlight=False)
    console.print(f"sign-in accounts (one per role) are in {users}")
    if serve:
        return _serve(settings, console)
    return 0


def _load(runner: QueryRunner, pseudo: Pseudonymiser, folder: Path, settings: Settings,
          console: Console) -> None:
    report = ingest_folder(folder, runner, pseudo, settings.var_dir / "ingest",
                           batch_size=settings.ingest_batch_size, progress=True)
    console.print(f"ingest {report.run_id}: " + ", ".join(
        f"{name} {c.loaded} new / {c.updated} updated / {c.unchanged} unchanged / "
        f"{c.quarantined} quarantined" for name, c in report.tables.items()))
    nodes, rels = graph_counts(runner)
    table = Table("label", "nodes", title="What the graph holds")
    for label, count in nodes.items():
        if count:
            table.add_row(label, f"{count:,}")
    console.print(table)
    console.print(f"relationships: {sum(rels.values()):,} "
                  + ", ".join(f"{k} {v:,}" for k, v in rels.items()))
    shared = Table("device", "applications", "sample", title="Devices shared by 2-10 "
                   "applications")
    for row in runner.read(SHARED_DEVICES):
        shared.add_row(row["device"], str(row["applications"]), ", ".join(row["sample"]))
    console.print(shared)


def _detect(runner: QueryRunner, settings: Settings, console: Console) -> None:
    from rings.config import load_config
    from rings.detect import run_detection

    result = run_detection(runner, load_config(settings.ring_config_file))
    top = sorted(result.rings, key=lambda ring: -ring.score)[:5]
    console.print(f"ring detection {result.run_id}: {len(result.rings)} candidate rings; "
                  f"top scores {', '.join(f'{ring.score:.1f}' for ring in top)}")


def _train(runner: QueryRunner, settings: Settings, console: Console) -> None:
    from gnn.config import GnnConfig
    from gnn.promotion import train_and_register
    from gnn.registry import load_champion
    from gnn.score import score_portfolio

    outcome = train_and_register(runner, settings, GnnConfig())
    console.print(f"GNN {outcome.version}: {outcome.message}", markup=False)
    scored = score_portfolio(runner, load_champion(settings))
    console.print(f"scored {scored:,} applications with the champion model")


def _demo_users(runner: QueryRunner, settings: Settings) -> Path:
    """One user per role with a random password, written once to a file only the owner
    may read; later demos reuse it."""
    import os
    import secrets

    from api.roles import Role
    from api.security import add_user

    path = settings.var_dir / "demo-users.txt"
    if not path.exists():
        lines = [f"{role.value}\t{secrets.token_urlsafe(12)}" for role in Role]
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("\n".join(lines) + "\n")
    for line in path.read_text().splitlines():
        name, password = line.split("\t")
        add_user(runner, f"demo-{name}", password, Role(name))
    return path


def _serve(settings: Settings, console: Console) -> int:
    """The API and the console in child processes, until Ctrl-C."""
    import subprocess
    import sys
    import time

    from fraudgraph.settings import REPO_ROOT

    bin_dir = Path(sys.executable).parent
    api = subprocess.Popen([str(bin_dir / "fraudgraph"), "serve"])
    ui = subprocess.Popen([str(bin_dir / "streamlit"), "run",
                           str(REPO_ROOT / "investigator_ui" / "app.py"),
                           "--server.port", "8501"])
    console.print(f"API: http://127.0.0.1:8000/docs   console: http://127.0.0.1:8501 "
                  f"(console talks to {settings.console_api_url}); Ctrl-C stops both")
    try:
        while api.poll() is None and ui.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for child in (api, ui):
            child.terminate()
            child.wait(timeout=30)
    return 0
