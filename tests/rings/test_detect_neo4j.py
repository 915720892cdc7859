"""Detection, write-back, incremental scoring and exports on small hand-built graphs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from graph.privacy import Pseudonymiser
from graph.runner import Query, QueryRunner
from ingest.pipeline import ingest_folder
from rings import writeback
from rings.config import RingConfig
from rings.detect import detect_in_memory, run_detection
from rings.incremental import neighbour_weights, score_application
from rings.projection import project
from rings.read import read_identity_graph
from rings.runs import memberships
from rings.writeback import new_ring_id
from tests.utils import application_row, write_table
from tests.utils import export as write_export

CONFIG = RingConfig(hub_cap=6)
NOW = datetime(2026, 11, 1, tzinfo=UTC)

RING_NODES = Query("test.rings", "MATCH (g:Ring)-[:DETECTED_IN]->(d:DetectionRun) "
                                 "RETURN g.ring_id AS ring_id, g.run_id AS run_id, g.size AS size, "
                                 "g.first_seen AS first_seen, d.run_id AS detected_in, "
                                 "g.previous_size AS previous_size "
                                 "ORDER BY g.last_seen")
MEMBERS = Query("test.members", "MATCH (a:Application)-[m:MEMBER_OF]->(g:Ring) "
                                "RETURN a.application_id AS app, m.run_id AS run_id, "
                                "g.ring_id AS ring_id ORDER BY app")


def ring_rows() -> list[dict[str, str]]:
    """APP1-4: a ring on one device and two payout accounts; APP5-6 share a home only;
    APP7-10 share nothing but the showroom IP (a hub at hub_cap=6) with everyone."""
    rows = []
    for n in range(1, 11):
        overrides = {"ip_address": "10.9.9.9"}
        if n <= 4:
            overrides |= {"device_id": "ring-device",
                          "bank_account": "6222000011112222" if n <= 2 else "6222000033334444",
                          "submitted_at": f"2026-03-0{n}T10:00:00"}
        if n in (5, 6):
            overrides["home_address"] = "上海市黄浦区人民路1号"
        rows.append(application_row(n, **overrides))
    return rows


def load(rows: list[dict[str, str]], runner: QueryRunner, pseudo: Pseudonymiser,
         folder: Path, labels: list[dict[str, str]] | None = None) -> None:
    write_export(folder, rows)
    if labels:
        write_table(folder, "labels", labels)
    ingest_folder(folder, runner, pseudo, folder.parent / "reports")


@pytest.fixture
def ring_graph(runner: QueryRunner, pseudo: Pseudonymiser, tmp_path: Path) -> QueryRunner:
    labels = [{"application_id": "APP000001", "label": "fraud", "source": "investigation",
               "labeled_at": "2026-06-01T10:00:00"}]
    load(ring_rows(), runner, pseudo, tmp_path / "export", labels)
    return runner


def test_detect_writes_rings_members_and_the_run(ring_graph: QueryRunner) -> None:
    result = run_detection(ring_graph, CONFIG, now=NOW)
    [ring] = ring_graph.read(RING_NODES)
    assert ring["size"] == 4 and ring["detected_in"] == result.run_id == ring["run_id"]
    members = ring_graph.read(MEMBERS)
    assert [m["app"] for m in members] == ["APP000001", "APP000002", "APP000003", "APP000004"]
    assert {m["run_id"] for m in members} == {result.run_id}
    # The showroom IP and the factory's shared switchboard: kept as weak evidence.
    assert result.counts["hub_identifiers_not_expanded"] == 2
    assert any("hub identifiers" in r for r in result.rings[0].reason_texts)
    assert "KNOWN_FRAUD" in result.rings[0].reason_codes
    # A later run whose write-back never finished is not the latest run.
    ring_graph.write(writeback.CREATE_RUN, run_id="rings-partial",
                     props={"started_at": NOW + timedelta(days=1), "status": "writing"})
    assert writeback.latest_run(ring_graph)["run_id"] == result.run_id


def test_a_second_run_keeps_the_ring_id_and_shows_how_it_grew(
        ring_graph: QueryRunner, pseudo: Pseudonymiser, tmp_path: Path) -> None:
    first = run_detection(ring_graph, CONFIG, now=NOW)
    load([application_row(11, device_id="ring-device")], ring_graph, pseudo, tmp_path / "more")
    second = run_detection(ring_graph, CONFIG, now=NOW + timedelta(days=1))
    rings = ring_graph.read(RING_NODES)
    assert [(r["run_id"], r["size"]) for r in rings] == [(first.run_id, 4), (second.run_id, 5)]
    assert rings[0]["ring_id"] == rings[1]["ring_id"]
    assert rings[0]["first_seen"] == rings[1]["first_seen"]  # appeared in the first run
    assert [r["previous_size"] for r in rings] == [0, 4]
    _, by_ring, _ = memberships(ring_graph, first.run_id)
    assert list(by_ring.values()) == [["APP000001", "APP000002", "APP000003", "APP000004"]]


def test_incremental_scoring_joins_bridges_starts_or_leaves_alone(
        ring_graph: QueryRunner, pseudo: Pseudonymiser, tmp_path: Path) -> None:
    extra = [application_row(20 + n, **o) for n, o in enumerate([
        {"device_id": "other-device"}, {"device_id": "other-device"},
        {"device_id": "other-device"}])]
    load(extra, ring_graph, pseudo, tmp_path / "extra")
    run = run_detection(ring_graph, CONFIG, now=NOW)
    ring_ids = {tuple(sorted(str(run.graph.apps.ids[m]) for m in r.members)): rid
                for r, rid in zip(run.rings, run.ring_ids, strict=True)}
    assert len(ring_ids) == 2
    newcomers = [application_row(30, device_id="ring-device"),
                 application_row(31, bank_account="6222000011112222", device_id="other-device"),
                 application_row(32, home_address="上海市黄浦区人民路1号"),
                 application_row(33)]
    load(newcomers, ring_graph, pseudo, tmp_path / "new")
    joins = score_application(ring_graph, "APP000030", CONFIG)
    assert joins.action == "joins" and joins.run_id == run.run_id
    assert joins.ring_ids == [ring_ids[("APP000001", "APP000002", "APP000003", "APP000004")]]
    assert joins.ring_score > 0 and joins.reasons
    bridges = score_application(ring_graph, "APP000031", CONFIG)
    assert bridges.action == "bridges" and len(bridges.ring_ids) == 2
    starts = score_application(ring_graph, "APP000032", CONFIG)  # with APP5 and APP6
    assert starts.action == "new_ring"
    assert starts.strong_neighbours == ["APP000005", "APP000006"]
    alone = score_application(ring_graph, "APP000033", CONFIG)
    assert alone.action == "none" and alone.ring_ids == []


def test_incremental_weights_are_the_batch_projection_weights(
        ring_graph: QueryRunner) -> None:
    config = RingConfig()  # hub cap above this graph: every identifier is expanded
    graph = read_identity_graph(ring_graph)
    projection = project(graph, config)
    position = {str(a): i for i, a in enumerate(graph.apps.ids)}
    me = position["APP000003"]
    batch = {}
    for a, b, w in zip(projection.src, projection.dst, projection.weight, strict=True):
        if me in (a, b):
            batch[str(graph.apps.ids[b if a == me else a])] = w
    weights, shared, hubs = neighbour_weights(ring_graph, "APP000003", config)
    assert weights == pytest.approx(batch)
    assert hubs == 0 and "SUBMITTED_FROM_DEVICE/SUBMITTED_FROM_DEVICE" in shared["APP000004"]


def test_new_ring_ids_never_repeat_an_id_already_taken() -> None:
    taken = {"R-000000000001"}
    fresh = [new_ring_id(taken) for _ in range(5_000)]
    assert len(set(fresh)) == 5_000 and "R-000000000001" not in fresh
    assert len(taken) == 5_001


def test_only_shared_identifiers_are_read_and_ring_members_get_their_first_payments(
        ring_graph: QueryRunner, pseudo: Pseudonymiser, tmp_path: Path) -> None:
    def installment(n: int, due: str, paid: str = "") -> dict[str, str]:
        return {"application_id": f"APP{n:06d}", "installment_no": "1", "due_date": due,
                "amount_due": "2500", "paid_date": paid, "amount_paid": "2500" if paid else ""}

    folder = write_export(tmp_path / "repayments", ring_rows())  # unchanged; repayments added
    # APP1-3 never paid a first installment due in April; APP4 paid it; APP7 (in no ring)
    # paid in October, which makes October the servicing snapshot.
    write_table(folder, "repayments", [installment(n, "2026-04-01") for n in (1, 2, 3)]
                + [installment(4, "2026-04-01", "2026-04-01"),
                   installment(7, "2026-04-01"), installment(8, "2026-10-01", "2026-10-01")])
    ingest_folder(folder, ring_graph, pseudo, tmp_path / "reports")
    result = run_detection(ring_graph, CONFIG, now=NOW)
    # The ring device, two payout accounts, the home of APP5-6, the showroom IP and the
    # employer switchboard every row gives: identifiers on one application are not read.
    assert result.graph.n_identifiers == 6
    [ring] = result.rings
    assert "FIRST_PAYMENT_DEFAULT" in ring.reason_codes
    assert ring.features["first_payment_defaults"] == 3
    assert ring.features["first_installments_due"] == 4
    full = read_identity_graph(ring_graph)  # every application's first payment
    assert sorted(full.apps.fpd.tolist()) == [-1] * 4 + [0, 0] + [1] * 4


def test_the_lean_read_finds_and_scores_what_the_whole_graph_gives(
        ring_graph: QueryRunner) -> None:
    # Detection reads attributes only where strong links join applications, and first
    # payments only for ring members; the whole graph, read in full, must agree.
    result = run_detection(ring_graph, CONFIG, write=False)
    full = read_identity_graph(ring_graph, CONFIG.fpd_grace_days)
    _, membership, rings = detect_in_memory(full, CONFIG)
    assert result.membership.tolist() == membership.tolist()
    assert [(r.score, r.reason_texts, r.features) for r in result.rings] == [
        (r.score, r.reason_texts, r.features) for r in rings]
    assert result.graph.model_medians == {"大众朗逸": 120_000.0}
