"""Read the identity graph from Neo4j into numpy arrays (`rings.graphdata`).

Lean on purpose, since at a million applications the read is most of a run:

* one query per identifier label (built from ``graph.schema``), returning its links as
  parallel integer lists in a single record, which the driver decodes far faster than one
  record per link;
* only identifiers that two or more applications touch: an identifier on one application
  links nobody, and the projection and scoring ignore it. The check counts all of a node's
  relationships, which the store answers without expanding them (a typed count is
  measurably slower); a node with one application and some other relationship (a
  watchlist entry) passes and is dropped by its degree in memory;
* application attributes (a property read walks a long property chain) only for the
  applications that strong links join to another (``read_attributes``), the model's usual
  prices aggregated on the server (``read_model_medians``), and first installments (an
  application has a dozen) only for ring members (``read_first_payments``).

Node ids are only used to join the columns inside a detection run, never written anywhere.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import numpy as np

from graph.runner import Query, QueryRunner
from graph.schema import IDENTIFIER_LABELS, IDENTIFIER_RELS, Label, Rel
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

A = Label.APPLICATION.value


def _rels_of(label: Label) -> list[Rel]:
    return [rel for rel in LINK_RELS if IDENTIFIER_RELS[rel] == label]


def _links_query(label: Label) -> Query:
    rels = _rels_of(label)
    types = "|".join(rel.value for rel in rels)
    # Columns only where they vary (each list element costs): which link kind, as the
    # index into LINK_RELS, where several end at one label (a Phone is an applicant's, a
    # contact's or an employer's), and whether a Phone is a mobile.
    extra = ""
    if len(rels) > 1:
        code = " ".join(f"WHEN '{rel.value}' THEN {REL_INDEX[rel]}" for rel in rels)
        extra += f", collect(CASE type(r) {code} END) AS rels"
    if label == Label.PHONE:
        extra += ", collect(coalesce(n.is_mobile, false)) AS mobile"
    return Query(
        f"rings.read_links_{label.value}",
        f"""
        MATCH (n:{label.value}) WHERE COUNT {{ (n)--() }} >= 2
        MATCH (a:{A})-[r:{types}]->(n)
        RETURN collect(id(a)) AS apps, collect(id(n)) AS idents{extra}
        """,
    )


READ_LINKS: dict[Label, Query] = {label: _links_query(label) for label in IDENTIFIER_LABELS}

# The servicing snapshot: the latest payment anybody made. An installment due after it
# (minus a grace period) cannot be judged unpaid yet.
SNAPSHOT = Query(
    "rings.read_snapshot",
    f"MATCH (i:{Label.INSTALLMENT.value}) RETURN max(i.paid_date) AS last_paid",
)

READ_APPLICATION_NODES = Query(
    "rings.read_application_nodes", f"MATCH (a:{A}) RETURN collect(id(a)) AS nid")

# Absent values become sentinels because collect() skips nulls (columns must stay aligned).
READ_ATTRIBUTES = Query(
    "rings.read_attributes",
    f"""
    UNWIND $nids AS nid
    MATCH (a:{A}) WHERE id(a) = nid
    RETURN collect(nid) AS nid, collect(a.application_id) AS ids,
           collect(coalesce(a.submitted_at.epochSeconds, 0)) AS submitted,
           collect(coalesce(a.dealer_id, '')) AS dealer,
           collect(coalesce(a.sales_agent_id, '')) AS agent,
           collect(coalesce(toFloat(a.loan_amount), -1.0)) AS loan_amount,
           collect(coalesce(toFloat(a.vehicle_price), -1.0)) AS vehicle_price,
           collect(coalesce(a.vehicle_model, '')) AS vehicle_model,
           collect(coalesce(a.label, '')) AS label
    """,
)

# The model's usual price (pandas' median: interpolated between the middle two).
READ_MODEL_MEDIANS = Query(
    "rings.read_model_medians",
    f"""
    MATCH (a:{A}) WHERE a.vehicle_model IS NOT NULL AND a.vehicle_price IS NOT NULL
    WITH a.vehicle_model AS model, percentileCont(toFloat(a.vehicle_price), 0.5) AS median
    RETURN collect(model) AS model, collect(median) AS median
    """,
)

READ_FIRST_PAYMENTS = Query(
    "rings.read_first_payments",
    f"""
    UNWIND $nids AS nid
    MATCH (a:{A})-[:{Rel.HAS_INSTALLMENT.value}]->(i:{Label.INSTALLMENT.value})
    WHERE id(a) = nid AND i.installment_no = 1
    WITH nid, CASE WHEN i.paid_date IS NOT NULL THEN {FPD_PAID}
                   WHEN $cutoff IS NOT NULL AND i.due_date <= $cutoff THEN {FPD_UNPAID}
                   ELSE {FPD_UNKNOWN} END AS fpd
    RETURN collect(nid) AS nid, collect(fpd) AS fpd
    """,
)


def fpd_cutoff(runner: QueryRunner, grace_days: int) -> date | None:
    """Latest due date at which an unpaid first installment counts as a default."""
    last_paid = runner.read(SNAPSHOT)[0]["last_paid"]
    if last_paid is None:
        return None
    return last_paid.to_native() - timedelta(days=grace_days)


def read_attributes(runner: QueryRunner, graph: IdentityGraph, positions: np.ndarray,
                    batch: int = 100_000) -> None:
    """Fill ``graph.apps`` (ids, times, dealer, agent, amounts, model, label) for the
    applications at ``positions``, in place."""
    node_ids: np.ndarray = graph.meta["node_ids"]
    apps = graph.apps
    for lo in range(0, len(positions), batch):
        chunk = node_ids[positions[lo:lo + batch]]
        row = runner.read_plain(READ_ATTRIBUTES, nids=chunk.tolist())[0]
        at = np.searchsorted(node_ids, np.asarray(row["nid"], dtype=np.int64))
        for name in ("ids", "dealer", "agent", "vehicle_model", "label"):
            getattr(apps, name)[at] = np.asarray(row[name], dtype=object)
        apps.submitted[at] = np.asarray(row["submitted"], dtype=np.int64)
        for name in ("loan_amount", "vehicle_price"):
            values = np.asarray(row[name], dtype=np.float64)
            values[values < 0] = np.nan
            getattr(apps, name)[at] = values


def read_model_medians(runner: QueryRunner) -> dict[str, float]:
    """The portfolio's median vehicle price per model."""
    row = runner.read_plain(READ_MODEL_MEDIANS)[0]
    return dict(zip(row["model"], map(float, row["median"]), strict=True))


def read_links(app_nids: np.ndarray, answers: list[dict]) -> tuple[Links, int]:
    """The shared-identifier links (from the answers of READ_LINKS, in its order) and the
    number of identifiers."""
    apps, idents, rels, mobiles = [], [], [], []
    for label, row in zip(READ_LINKS, answers, strict=True):
        apps.append(np.asarray(row["apps"], dtype=np.int64))
        idents.append(np.asarray(row["idents"], dtype=np.int64))
        only = np.full(len(apps[-1]), REL_INDEX[_rels_of(label)[0]], dtype=np.int8)
        rels.append(np.asarray(row["rels"], dtype=np.int8) if "rels" in row else only)
        mobiles.append(np.asarray(row["mobile"], dtype=bool) if "mobile" in row
                       else np.zeros(len(apps[-1]), dtype=bool))
    ident_nids, ident_pos = np.unique(np.concatenate(idents), return_inverse=True)
    app_pos = np.searchsorted(app_nids, np.concatenate(apps))
    links = Links(app=app_pos.astype(np.int64), ident=ident_pos.astype(np.int64),
                  rel=np.concatenate(rels), mobile=np.concatenate(mobiles))
    return links, len(ident_nids)


def read_shared_links(runner: QueryRunner, workers: int = 1) -> IdentityGraph:
    """Every application (attributes still blank: ``read_attributes`` fills them), the
    links to identifiers that two or more applications share, and the model medians;
    ``workers`` queries in flight at a time."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        nodes = pool.submit(runner.read_plain, READ_APPLICATION_NODES)
        answers = list(pool.map(lambda q: runner.read_plain(q)[0], READ_LINKS.values()))
        app_nids = np.sort(np.asarray(nodes.result()[0]["nid"], dtype=np.int64))
    links, n_identifiers = read_links(app_nids, answers)
    return IdentityGraph(apps=Applications.blank(len(app_nids)), links=links,
                         n_identifiers=n_identifiers, meta={"node_ids": app_nids},
                         model_medians=read_model_medians(runner))


def read_identity_graph(runner: QueryRunner, grace_days: int | None = 15) -> IdentityGraph:
    """The whole identity graph as arrays: every application with its attributes, the
    links to identifiers that two or more applications share, and (unless ``grace_days``
    is None) every first payment, an unpaid first installment counting as a default only
    when it fell due ``grace_days`` before the servicing snapshot."""
    graph = read_shared_links(runner)
    everyone = np.arange(graph.n_apps)
    read_attributes(runner, graph, everyone)
    if grace_days is not None:
        read_first_payments(runner, graph, everyone, grace_days)
    return graph


def read_first_payments(runner: QueryRunner, graph: IdentityGraph, positions: np.ndarray,
                        grace_days: int, batch: int = 100_000) -> None:
    """Fill ``graph.apps.fpd`` for the applications at ``positions`` (in place)."""
    cutoff = fpd_cutoff(runner, grace_days)
    node_ids: np.ndarray = graph.meta["node_ids"]
    for lo in range(0, len(positions), batch):
        chunk = positions[lo:lo + batch]
        row = runner.read_plain(READ_FIRST_PAYMENTS, nids=node_ids[chunk].tolist(),
                                cutoff=cutoff)[0]
        found = np.searchsorted(node_ids, np.asarray(row["nid"], dtype=np.int64))
        graph.apps.fpd[found] = np.asarray(row["fpd"], dtype=np.int8)
