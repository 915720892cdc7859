"""Read the identity graph from Neo4j into numpy arrays (`rings.graphdata`).

One query per identifier relationship type, built from ``graph.schema``; each returns its
links as two columns (lists) in a single record, which the driver decodes far faster than
one record per link. Node ids are only used to join the columns inside this read.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import numpy as np

from graph.runner import Query, QueryRunner
from graph.schema import IDENTIFIER_RELS, Label, Rel
from rings.graphdata import (
    FPD_PAID,
    FPD_UNKNOWN,
    FPD_UNPAID,
    LINK_RELS,
    REL_INDEX,
    Applications,
    IdentityGraph,
    Links,
)


def _links_query(rel: Rel) -> Query:
    label = IDENTIFIER_RELS[rel].value
    mobile = "coalesce(n.is_mobile, false)" if IDENTIFIER_RELS[rel] == Label.PHONE else "false"
    return Query(
        f"rings.read_links_{rel.value}",
        f"MATCH (a:{Label.APPLICATION.value})-[:{rel.value}]->(n:{label}) "
        f"RETURN collect(id(a)) AS apps, collect(id(n)) AS idents, "
        f"collect({mobile}) AS mobile",
    )


READ_LINKS: dict[Rel, Query] = {rel: _links_query(rel) for rel in LINK_RELS}

# The servicing snapshot: the latest payment anybody made. An installment due after it
# (minus a grace period) cannot be judged unpaid yet.
SNAPSHOT = Query(
    "rings.read_snapshot",
    f"MATCH (i:{Label.INSTALLMENT.value}) RETURN max(i.paid_date) AS last_paid",
)

# Absent values become sentinels because collect() skips nulls (columns must stay aligned).
READ_APPLICATIONS = Query(
    "rings.read_applications",
    f"""
    MATCH (a:{Label.APPLICATION.value})
    OPTIONAL MATCH (a)-[:{Rel.HAS_INSTALLMENT.value}]->(i:{Label.INSTALLMENT.value})
      WHERE i.installment_no = 1
    WITH a, CASE WHEN i IS NULL THEN {FPD_UNKNOWN}
                 WHEN i.paid_date IS NOT NULL THEN {FPD_PAID}
                 WHEN $cutoff IS NOT NULL AND i.due_date <= $cutoff THEN {FPD_UNPAID}
                 ELSE {FPD_UNKNOWN} END AS fpd
    RETURN collect(id(a)) AS nid, collect(a.application_id) AS ids,
           collect(coalesce(a.submitted_at.epochSeconds, 0)) AS submitted,
           collect(coalesce(a.dealer_id, '')) AS dealer,
           collect(coalesce(a.sales_agent_id, '')) AS agent,
           collect(coalesce(toFloat(a.loan_amount), -1.0)) AS loan_amount,
           collect(coalesce(toFloat(a.vehicle_price), -1.0)) AS vehicle_price,
           collect(coalesce(a.vehicle_model, '')) AS vehicle_model,
           collect(coalesce(a.label, '')) AS label,
           collect(fpd) AS fpd
    """,
)


def fpd_cutoff(runner: QueryRunner, grace_days: int) -> date | None:
    """Latest due date at which an unpaid first installment counts as a default."""
    last_paid = runner.read(SNAPSHOT)[0]["last_paid"]
    if last_paid is None:
        return None
    return last_paid.to_native() - timedelta(days=grace_days)


def read_applications(runner: QueryRunner, grace_days: int = 15
                      ) -> tuple[np.ndarray, Applications]:
    """Neo4j node ids (sorted) and the applications in the same order."""
    row = runner.read(READ_APPLICATIONS, cutoff=fpd_cutoff(runner, grace_days))[0]
    nid = np.asarray(row["nid"], dtype=np.int64)
    order = np.argsort(nid, kind="stable")

    def col(name: str, dtype: object) -> np.ndarray:
        return np.asarray(row[name], dtype=dtype)[order]

    loan, price = col("loan_amount", np.float64), col("vehicle_price", np.float64)
    loan[loan < 0], price[price < 0] = np.nan, np.nan
    apps = Applications(
        ids=col("ids", object), submitted=col("submitted", np.int64),
        dealer=col("dealer", object), agent=col("agent", object), loan_amount=loan,
        vehicle_price=price, vehicle_model=col("vehicle_model", object),
        label=col("label", object), fpd=col("fpd", np.int8),
    )
    return nid[order], apps


def read_links(app_nids: np.ndarray, answers: list[dict]) -> tuple[Links, int, np.ndarray]:
    """All identifier links (from the answers of READ_LINKS, in its order), the number of
    identifiers and their Neo4j node ids."""
    apps, idents, rels, mobiles = [], [], [], []
    for rel, row in zip(READ_LINKS, answers, strict=True):
        apps.append(np.asarray(row["apps"], dtype=np.int64))
        idents.append(np.asarray(row["idents"], dtype=np.int64))
        mobiles.append(np.asarray(row["mobile"], dtype=bool))
        rels.append(np.full(len(apps[-1]), REL_INDEX[rel], dtype=np.int8))
    app_nid = np.concatenate(apps)
    ident_nids, ident_pos = np.unique(np.concatenate(idents), return_inverse=True)
    app_pos = np.searchsorted(app_nids, app_nid)
    links = Links(app=app_pos.astype(np.int64), ident=ident_pos.astype(np.int64),
                  rel=np.concatenate(rels), mobile=np.concatenate(mobiles))
    return links, len(ident_nids), ident_nids


def read_identity_graph(runner: QueryRunner, grace_days: int = 15) -> IdentityGraph:
    """The whole identity graph as arrays; a first installment counts as unpaid only when
    it fell due ``grace_days`` before the servicing snapshot."""
    # Three queries in flight: the server scans one while the driver decodes another.
    with ThreadPoolExecutor(max_workers=3) as pool:
        applications = pool.submit(read_applications, runner, grace_days)
        answers = list(pool.map(lambda q: runner.read(q)[0], READ_LINKS.values()))
        app_nids, apps = applications.result()
    links, n_identifiers, ident_nids = read_links(app_nids, answers)
    return IdentityGraph(apps=apps, links=links, n_identifiers=n_identifiers,
                         meta={"identifier_node_ids": ident_nids})
