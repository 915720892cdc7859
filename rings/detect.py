"""`fraudgraph detect`: the pipeline of named, timed steps from Neo4j to rings and back.

read -> projection -> communities -> scoring -> write-back. Each step is logged with its
counts and time; `DetectionResult.timings` and `.peak_rss_mb` feed the benchmark.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from fraudgraph.logs import get_logger
from fraudgraph.memory import peak_rss_mib
from graph.runner import QueryRunner
from rings import writeback
from rings.communities import find_groups, strong_graph
from rings.config import RingConfig
from rings.graphdata import IdentityGraph
from rings.projection import Projection, project
from rings.read import read_attributes, read_first_payments, read_shared_links
from rings.scoring import RingScore, score_rings

log = get_logger("rings")


@dataclass
class DetectionResult:
    """What one run found, with per-step timings (seconds). ``graph.apps`` holds the
    attributes of the applications that strong links join (ring members among them);
    the others' are blank, never read."""

    run_id: str
    graph: IdentityGraph
    projection: Projection
    membership: np.ndarray
    rings: list[RingScore]
    ring_ids: list[str]
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def flagged(self, config: RingConfig) -> list[RingScore]:
        return [r for r in self.rings if r.score > config.alert_threshold]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return peak_rss_mib()


@contextmanager
def _step(name: str, timings: dict[str, float]) -> Iterator[None]:
    started = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - started, 3)


def detect_in_memory(graph: IdentityGraph, config: RingConfig,
                     timings: dict[str, float] | None = None
                     ) -> tuple[Projection, np.ndarray, list[RingScore]]:
    """Projection, groups and scores of ``graph`` (pure; no I/O)."""
    timings = {} if timings is None else timings
    with _step("projection", timings):
        projection = project(graph, config)
    with _step("communities", timings):
        membership = find_groups(projection, config, graph)
    with _step("scoring", timings):
        rings = score_rings(graph, membership, config, projection.hub_links)
    return projection, membership, rings


def run_detection(runner: QueryRunner, config: RingConfig, *, write: bool = True,
                  now: datetime | None = None) -> DetectionResult:
    """Read the graph, find and score rings, and (unless ``write`` is False) write them."""
    now = now or datetime.now(UTC)
    run_id = writeback.new_run_id(now)
    timings: dict[str, float] = {}
    with _step("read", timings):
        graph = read_shared_links(runner, config.read_workers)
    log.info("rings.read", applications=graph.n_apps, links=len(graph.links),
             identifiers=graph.n_identifiers, seconds=timings["read"])
    with _step("projection", timings):
        projection = project(graph, config)
        strong = strong_graph(projection, config)
    # Only applications that strong links join to another can be in a ring (or bridge
    # one): their attributes are read now, the rest never.
    with _step("read_attributes", timings):
        read_attributes(runner, graph, np.flatnonzero(np.asarray(strong.degree()) > 0))
    with _step("communities", timings):
        membership = find_groups(projection, config, graph, strong)
    # First payments are scoring evidence that only ring members need; an application has
    # a dozen installments, so reading them for the whole portfolio would double the read.
    with _step("read_ring_payments", timings):
        read_first_payments(runner, graph, np.flatnonzero(membership >= 0),
                            config.fpd_grace_days)
    with _step("scoring", timings):
        rings = score_rings(graph, membership, config, projection.hub_links)
    counts = {"applications": graph.n_apps, "links": len(graph.links),
              "identifiers": graph.n_identifiers, "pairs": projection.n_edges,
              "strong_pairs": int(projection.strong(config.strong_threshold).sum()),
              "hub_identifiers_not_expanded": projection.hubs_skipped,
              "hub_links_kept_as_weak_evidence": projection.hub_link_total,
              "rings": len(rings),
              "flagged": sum(r.score > config.alert_threshold for r in rings)}
    log.info("rings.detected", run_id=run_id, **counts)
    with _step("write_back", timings):
        ring_ids, before = _assign_ids(runner, graph, rings, config)
        if write:
            writeback.write_run(runner, run_id, now, config.model_dump(mode="json"), counts,
                                ring_rows(graph, rings, ring_ids, now, before))
    log.info("rings.timings", run_id=run_id, **timings)
    return DetectionResult(run_id, graph, projection, membership, rings, ring_ids,
                           timings, counts)


def _assign_ids(runner: QueryRunner, graph: IdentityGraph, rings: list[RingScore],
                config: RingConfig) -> tuple[list[str], dict[str, tuple[object, int]]]:
    """Ring ids (continued from the latest run where membership overlaps, else new) and,
    per continued ring, when it was first seen and its size in the previous run."""
    previous = writeback.latest_run(runner)
    old = writeback.previous_rings(runner, previous["run_id"]) if previous else []
    members = [[str(graph.apps.ids[m]) for m in r.members] for r in rings]
    matched = writeback.match_ring_ids(members, old, config.stable_id_jaccard)
    before = {m.ring_id: (m.first_seen, len(m.apps)) for m in matched if m is not None}
    taken = {ring.ring_id for ring in old}
    return [m.ring_id if m else writeback.new_ring_id(taken) for m in matched], before


def ring_rows(graph: IdentityGraph, rings: list[RingScore], ring_ids: list[str],
              now: datetime, before: dict[str, tuple[object, int]]) -> list[dict]:
    """Ring properties as written to Neo4j (``previous_size`` 0: a new ring)."""
    rows = []
    for ring, ring_id in zip(rings, ring_ids, strict=True):
        features = ring.features
        rows.append({
            "ring_id": ring_id, "score": ring.score, "size": len(ring.members),
            "reasons": ring.reason_texts, "reason_codes": ring.reason_codes,
            "reason_points": [r.points for r in ring.reasons],
            "first_seen": before.get(ring_id, (now, 0))[0], "last_seen": now,
            "previous_size": before.get(ring_id, (now, 0))[1],
            "method": "components+leiden(modularity)",
            "window_start": datetime.fromtimestamp(int(features["first_seen_at"]), UTC),
            "window_end": datetime.fromtimestamp(int(features["last_seen_at"]), UTC),
            **{k: v for k, v in features.items()
               if k not in ("size", "first_seen_at", "last_seen_at")},
            "members": [str(graph.apps.ids[m]) for m in ring.members],
        })
    return rows
