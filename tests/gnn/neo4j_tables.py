"""Writing hand-made application and link tables into the test Neo4j, in the shape ingest
leaves them (node keys from graph.schema, datetimes as Neo4j datetimes)."""

from __future__ import annotations

import pandas as pd

from gnn.data import APP, GRAPH_RELS
from graph.runner import Query, QueryRunner
from graph.schema import NODE_KEYS, Rel

WRITE_APPS = Query(
    "test.gnn.write_apps",
    f"""
    UNWIND $rows AS r
    CREATE (a:{APP} {{application_id: r.application_id}})
    SET a.submitted_at = datetime({{epochSeconds: toInteger(r.ts)}}),
        a.labeled_at = CASE WHEN r.labeled_ts IS NULL THEN null
                            ELSE datetime({{epochSeconds: toInteger(r.labeled_ts)}}) END,
        a.dealer_id = r.dealer_id, a.product = r.product, a.loan_amount = r.loan_amount,
        a.down_payment = r.down_payment, a.vehicle_price = r.vehicle_price,
        a.vehicle_model = r.vehicle_model, a.term_months = r.term_months,
        a.monthly_income = r.monthly_income, a.label = r.label
    """,
)
WRITE_LINKS = {
    rel: Query(f"test.gnn.write_{rel.value.lower()}",
               f"UNWIND $rows AS r MATCH (a:{APP} {{application_id: r.app}}) "
               f"MERGE (n:{label.value} {{{NODE_KEYS[label]}: r.node}}) "
               f"CREATE (a)-[:{rel.value}]->(n)")
    for rel, label in GRAPH_RELS.items()
}


def write_tables(runner: QueryRunner, apps: pd.DataFrame,
                 links: dict[Rel, pd.DataFrame]) -> None:
    rows = apps.astype(object).where(apps.notna(), None).to_dict("records")
    with runner.transaction() as tx:
        tx.run(WRITE_APPS, rows=rows)
        for rel, frame in links.items():
            tx.run(WRITE_LINKS[rel], rows=frame.to_dict("records"))
