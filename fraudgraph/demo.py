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


def run_demo(settings: Settings, console: Console, *, applications: int, seed: int) -> int:
    """Run the demo; returns the process exit status."""
    state = server.start(settings)
    console.print(f"Neo4j {state.detail} at {state.uri}")
    folder = _portfolio(settings, console, applications, seed)
    pseudo = Pseudonymiser(settings.hash_key.get_secret_value(),
                           settings.encryption_key.get_secret_value())
    with QueryRunner.from_settings(settings) as runner:
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
    console.print(f"\nNeo4j answers at {settings.bolt_uri} (user {settings.neo4j_user}, "
                  f"password in var/fraudgraph.env). A query to try, in cypher-shell or the "
                  f"Python driver:\n\n{TRY_QUERY}\n", markup=False, highlight=False)
    return 0
