"""The decision's one read (lifecycle.snapshot): the ring scorer's three reads answered
from it give what the ring queries themselves give; a changed ring query falls through to
the database; the policy cache follows a new active policy and an edited policy file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from graph.runner import Query, QueryRunner
from lifecycle import policy_store
from lifecycle.context import Lifecycle
from lifecycle.policy import DEFAULT_POLICY
from lifecycle.scorers import RingScorer
from lifecycle.snapshot import MIRRORED, SnapshotReader, read_snapshot, text_hash
from rings import incremental, writeback
from rings.config import RingConfig
from tests.lifecycle.conftest import submit

ADD_RINGS = Query(
    "test.snapshot.rings",
    """
    CREATE (old:DetectionRun {run_id: 'RUN-1', status: 'complete', started_at: $earlier})
    CREATE (d:DetectionRun {run_id: 'RUN-2', status: 'complete', started_at: $at})
    CREATE (g:Ring {ring_key: 'G1|RUN-2', ring_id: 'G1', run_id: 'RUN-2', score: 80.0,
                    size: 2, reasons: ['shared device']})-[:DETECTED_IN]->(d)
    CREATE (h:Ring {ring_key: 'G0|RUN-1', ring_id: 'G0', run_id: 'RUN-1', score: 99.0,
                    size: 2, reasons: ['an older run']})-[:DETECTED_IN]->(old)
    WITH g, h
    MATCH (a:Application) WHERE a.application_id IN ['APP000001', 'APP000002']
    CREATE (a)-[:MEMBER_OF {run_id: 'RUN-2'}]->(g)
    CREATE (a)-[:MEMBER_OF {run_id: 'RUN-1'}]->(h)
    """,
)


def _shared_device_graph(ctx: Lifecycle) -> str:
    """Four applications on one device, two of them in a ring of the latest run."""
    ctx.scorers = []
    for n in (1, 2, 3):
        submit(ctx, n, device_id="shared-tablet", bank_account="6222000000000000077")
    ctx.runner.write(ADD_RINGS, earlier=datetime(2026, 1, 1), at=datetime(2026, 2, 1))
    submit(ctx, 4, device_id="shared-tablet")
    return "APP000004"


def _rows(rows: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    # collect() order is not part of the answer
    return sorted(({**r, "others": sorted(r["others"])} if "others" in r else r
                   for r in rows), key=repr)


def test_the_ring_reads_answered_from_the_snapshot_match_the_ring_queries(
        ctx: Lifecycle, runner: QueryRunner) -> None:
    app_id = _shared_device_graph(ctx)
    config = RingConfig()
    snapshot = read_snapshot(runner, app_id, hub_cap=6, ring_cap=config.hub_cap)
    reader = SnapshotReader(runner, snapshot, app_id)

    def both(query: Query, **params: object) -> tuple[list[dict], list[dict]]:  # type: ignore[type-arg]
        return _rows(reader.read(query, **params)), _rows(runner.read(query, **params))

    mine, theirs = both(incremental.NEIGHBOURHOOD, app=app_id, cap=config.hub_cap)
    assert mine == theirs and any(r["others"] for r in theirs)
    mine, theirs = both(writeback.LATEST_RUN)
    assert mine == theirs and theirs[0]["run_id"] == "RUN-2"
    neighbours = ["APP000001", "APP000002", "APP000003"]
    mine, theirs = both(incremental.RINGS_OF, apps=neighbours, run_id="RUN-2")
    assert mine == theirs and [r["ring_id"] for r in theirs] == ["G1"]
    assert reader.served == 3

    scorer = RingScorer(config)
    fresh = SnapshotReader(runner, snapshot, app_id)
    assert scorer(fresh, app_id) == scorer(runner, app_id)
    assert fresh.served == 3  # the scorer read nothing from the database


def test_a_ring_query_that_changed_is_answered_by_the_database(
        ctx: Lifecycle, runner: QueryRunner) -> None:
    app_id = _shared_device_graph(ctx)
    snapshot = read_snapshot(runner, app_id, hub_cap=6, ring_cap=100)
    reader = SnapshotReader(runner, snapshot, app_id)
    changed = Query(incremental.NEIGHBOURHOOD.name, incremental.NEIGHBOURHOOD.text + "\n")
    rows = reader.read(changed, app=app_id, cap=100)
    assert _rows(rows) == _rows(runner.read(incremental.NEIGHBOURHOOD, app=app_id, cap=100))
    assert reader.served == 0
    # ...and one asked with another cap than the snapshot's
    reader.read(incremental.NEIGHBOURHOOD, app=app_id, cap=5)
    assert reader.served == 0


def test_the_mirrored_ring_queries_are_the_ones_in_rings() -> None:
    # Failing here means rings/ changed a query the snapshot mirrors: decisions stay
    # right (those reads go to the database) but slower. Update lifecycle/snapshot.py.
    current = {q.name: text_hash(q) for q in (incremental.NEIGHBOURHOOD, writeback.LATEST_RUN,
                                              incremental.RINGS_OF)}
    assert current == MIRRORED


def test_a_decision_gets_the_ring_of_the_latest_run_through_the_snapshot(ctx: Lifecycle,
                                                             runner: QueryRunner) -> None:
    app_id = _shared_device_graph(ctx)
    ctx.scorers = [RingScorer(RingConfig())]
    decided = submit(ctx, 5, device_id="shared-tablet", bank_account="6222000000000000077")
    ring = decided.signals.score("ring")
    assert ring is not None and ring.available and ring.detail["ring_ids"] == ["G1"]
    assert decided.tier in ("B", "C") and app_id  # a strong ring pushes it to review


def test_a_new_active_policy_with_another_hub_cap_is_used_at_once(ctx: Lifecycle) -> None:
    # Three other applicants on one device: R109 under the default hub cap (6)...
    for n in (1, 2, 3):
        submit(ctx, n, device_id="kiosk")
    first = submit(ctx, 4, device_id="kiosk")
    assert "R109" in [h.code for h in first.signals.rule_hits]
    assert ctx.policies.last is DEFAULT_POLICY
    # ...and none once the active policy calls a device of more than 3 applications a hub
    hubs = DEFAULT_POLICY.model_copy(update={"version": "test-hub-3", "hub_cap": 3})
    with ctx.runner.transaction() as tx:
        policy_store.activate(tx, hubs, by="maker", approved_by="checker",
                              at=ctx.clock())
    second = submit(ctx, 5, device_id="kiosk")
    assert second.policy_version == "test-hub-3"
    assert "R109" not in [h.code for h in second.signals.rule_hits]


def test_an_edited_policy_file_is_read_again(ctx: Lifecycle, tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(DEFAULT_POLICY.model_copy(update={"version": "file-1"}).to_json())
    ctx.policy_file = path
    assert submit(ctx, 1).policy_version == "file-1"
    path.write_text(DEFAULT_POLICY.model_copy(update={"version": "file-2"}).to_json())
    assert submit(ctx, 2).policy_version == "file-2"


def test_an_active_policy_is_used_even_when_the_configured_file_is_broken(
        ctx: Lifecycle, tmp_path: Path) -> None:
    broken = tmp_path / "policy.json"
    broken.write_text("{not json")
    ctx.policy_file = broken
    active = DEFAULT_POLICY.model_copy(update={"version": "graph-1"})
    with ctx.runner.transaction() as tx:
        policy_store.activate(tx, active, by="maker", approved_by="checker", at=ctx.clock())
    assert submit(ctx, 1).policy_version == "graph-1"
