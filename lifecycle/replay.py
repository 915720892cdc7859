"""Replay a generated portfolio in time order through the decision path.

The older part (``preload`` share by submission time) is loaded with ingest, with the
labels and repayments known at the cut-off; the rest is submitted one application at a
time through :func:`lifecycle.decision.submit_application`, each decided at its own
submission time. With the ground truth (``truth/applications.csv``) the replay measures
the share of fraud and of honest applications sent to B or C, and per fraud ring how
many of its applications were approved before the ring was caught (its first member sent
to B or C).

It writes into the database it is given and refuses one that holds applications unless
``wipe`` is set: run it against a scratch Neo4j, never a working one.
"""

from __future__ import annotations

import csv
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from fraudgraph.logs import get_logger
from graph import normalise
from graph.constraints import ensure_schema
from graph.privacy import Pseudonymiser
from graph.runner import Query, QueryRunner
from graph.schema import Label
from ingest.pipeline import ingest_folder
from lifecycle import cases
from lifecycle.context import Lifecycle
from lifecycle.decision import submit_application
from lifecycle.errors import InvalidInput, LifecycleError
from lifecycle.signals import Scorer

log = get_logger("lifecycle.replay")

COUNT_APPS = Query("lifecycle.replay.count", f"MATCH (a:{Label.APPLICATION}) "
                                              "RETURN count(a) AS n")
WIPE_BATCH = Query("lifecycle.replay.wipe_batch",
                   "MATCH (n) WITH n LIMIT 20000 DETACH DELETE n RETURN count(*) AS n")


#: Disposition a simulated reviewer gives a tier-B case, from the truth's group kind.
FRAUD_DISPOSITION = {"synthetic_identity_ring": "synthetic_identity",
                     "identity_theft": "identity_theft",
                     "dealer_cashout": "dealer_collusion",
                     "fake_employer_mill": "first_party_fraud"}
RELATIONSHIP_KINDS = ("family", "fleet", "dormitory", "repeat_customer")


class _ReplayClock:
    """The replay's clock: the submission time of the application being decided."""

    def __init__(self) -> None:
        self.value = datetime.now().astimezone()

    def __call__(self) -> datetime:
        return self.value


def disposition_for(truth_row: dict[str, str]) -> str:
    """What a perfect reviewer concludes about one application."""
    kind = truth_row.get("group_kind") or "none"
    if truth_row.get("is_fraud") == "true":
        return FRAUD_DISPOSITION.get(kind, "first_party_fraud")
    return "legitimate_relationship" if kind in RELATIONSHIP_KINDS else "false_positive"


def _review(ctx: Lifecycle, case_id: str, truth_row: dict[str, str]) -> None:
    cases.assign(ctx, case_id, "replay-reviewer", by="replay-lead")
    cases.close_case(ctx, case_id, disposition_for(truth_row), by="replay-reviewer",
                     reason="simulated review from the ground truth")


class RingOutcome(BaseModel):
    group_id: str
    kind: str
    replayed: int
    approved_before_caught: int
    caught: bool
    flagged: int


class ReplayReport(BaseModel):
    applications: int
    preloaded: int
    replayed: int
    rejected_rows: int
    cutoff: str
    tiers: dict[str, int]
    fraud_replayed: int
    honest_replayed: int
    fraud_flagged_share: float  # fraud applications sent to B or C
    honest_flagged_share: float  # honest applications sent to B or C
    fraud_declined_share: float
    honest_declined_share: float
    by_pattern: dict[str, dict[str, float]]
    rings: list[RingOutcome] = Field(default_factory=list)
    rings_caught: int = 0
    approved_before_caught_total: int = 0
    approved_before_caught_mean: float = 0.0
    rule_hits: dict[str, int] = Field(default_factory=dict)
    decision_ms_p50: float = 0.0
    decision_ms_p95: float = 0.0
    preload_seconds: float = 0.0
    ring_detections: int = 0
    reviewed_cases: int = 0
    replay_seconds: float = 0.0


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, rows: Sequence[dict[str, str]], columns: Sequence[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)


def _when(value: str) -> datetime:
    return normalise.iso_datetime(value)


def split_export(export: Path, preload_dir: Path, preload: float
                 ) -> tuple[list[dict[str, str]], datetime, int]:
    """Write the older part of ``export`` (CSV) to ``preload_dir``; return the rest, in
    time order, the cut-off time and the number of preloaded applications."""
    apps = _read(export / "applications.csv")
    apps.sort(key=lambda r: (_when(r["submitted_at"]), r["application_id"]))
    n_pre = int(len(apps) * preload)
    older, newer = apps[:n_pre], apps[n_pre:]
    cutoff = _when(newer[0]["submitted_at"]) if newer else _when(apps[-1]["submitted_at"])
    preload_dir.mkdir(parents=True, exist_ok=True)
    columns = list(apps[0].keys())
    _write(preload_dir / "applications.csv", older, columns)
    dealers = _read(export / "dealers.csv")
    _write(preload_dir / "dealers.csv", dealers, list(dealers[0].keys()))
    old_ids = {r["application_id"] for r in older}
    if (export / "labels.csv").exists():
        labels = [r for r in _read(export / "labels.csv") if r["application_id"] in old_ids
                  and r.get("labeled_at") and _when(r["labeled_at"]) < cutoff]
        _write(preload_dir / "labels.csv", labels,
               ["application_id", "label", "source", "labeled_at"])
    if (export / "repayments.csv").exists():
        pays = []
        for r in _read(export / "repayments.csv"):
            if r["application_id"] not in old_ids or r["due_date"] >= cutoff.date().isoformat():
                continue
            if r.get("paid_date") and r["paid_date"] >= cutoff.date().isoformat():
                r = {**r, "paid_date": "", "amount_paid": ""}
            pays.append(r)
        _write(preload_dir / "repayments.csv", pays,
               ["application_id", "installment_no", "due_date", "amount_due", "paid_date",
                "amount_paid"])
    return newer, cutoff, n_pre


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def summarise(decided: list[tuple[str, str, list[str]]], truth: dict[str, dict[str, str]],
              ) -> dict[str, Any]:
    """Figures from (application_id, tier, rule codes) in time order and the ground truth."""
    tiers: dict[str, int] = defaultdict(int)
    hits: dict[str, int] = defaultdict(int)
    counts = {True: [0, 0, 0], False: [0, 0, 0]}  # replayed, flagged, declined
    patterns: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    rings: dict[str, dict[str, Any]] = {}
    for app_id, tier, codes in decided:
        tiers[tier] += 1
        for code in codes:
            hits[code] += 1
        t = truth.get(app_id, {})
        fraud = t.get("is_fraud") == "true"
        c = counts[fraud]
        c[0] += 1
        c[1] += tier in ("B", "C")
        c[2] += tier == "C"
        pattern = t.get("group_kind") or "none"
        patterns[pattern][0] += 1
        patterns[pattern][1] += tier in ("B", "C")
        if fraud and t.get("group_id"):
            ring = rings.setdefault(t["group_id"], {"kind": pattern, "replayed": 0,
                                                    "before": 0, "caught": False,
                                                    "flagged": 0})
            ring["replayed"] += 1
            if tier in ("B", "C"):
                ring["flagged"] += 1
                ring["caught"] = True
            elif not ring["caught"]:
                ring["before"] += 1
    outcomes = [RingOutcome(group_id=g, kind=r["kind"], replayed=r["replayed"],
                            approved_before_caught=r["before"], caught=r["caught"],
                            flagged=r["flagged"]) for g, r in sorted(rings.items())]
    caught = [o for o in outcomes if o.caught]
    return dict(
        tiers=dict(sorted(tiers.items())), rule_hits=dict(sorted(hits.items())),
        fraud_replayed=counts[True][0], honest_replayed=counts[False][0],
        fraud_flagged_share=_share(counts[True][1], counts[True][0]),
        honest_flagged_share=_share(counts[False][1], counts[False][0]),
        fraud_declined_share=_share(counts[True][2], counts[True][0]),
        honest_declined_share=_share(counts[False][2], counts[False][0]),
        by_pattern={k: {"replayed": v[0], "flagged_share": _share(v[1], v[0])}
                    for k, v in sorted(patterns.items())},
        rings=outcomes, rings_caught=len(caught),
        approved_before_caught_total=sum(o.approved_before_caught for o in outcomes),
        approved_before_caught_mean=round(statistics.mean(
            [o.approved_before_caught for o in caught]), 2) if caught else 0.0,
    )


def _iter_progress(rows: list[dict[str, str]], every: int = 500) -> Iterator[
        tuple[int, dict[str, str]]]:
    start = time.perf_counter()
    for i, row in enumerate(rows, 1):
        yield i, row
        if i % every == 0:
            log.info("replay progress", done=i, total=len(rows),
                     per_second=round(i / (time.perf_counter() - start), 1))


def replay(runner: QueryRunner, pseudo: Pseudonymiser, export: Path, work_dir: Path, *,
           preload: float = 0.5, scorers: Sequence[Scorer] = (), wipe: bool = False,
           policy_file: Path | None = None, limit: int | None = None,
           detector: Callable[[QueryRunner, datetime], None] | None = None,
           detect_every: int = 1000, review: bool = False) -> ReplayReport:
    """Replay ``export`` (a CSV export with ``truth/``) and measure the decision path.

    With a ``detector`` (full ring detection), rings are detected after the preload and
    again every ``detect_every`` submissions, as a nightly batch would. With ``review``,
    every tier-B case is closed at once by a reviewer who knows the truth, so confirmed
    fraud feeds labels, the watchlist and ring scores for the applications after it.
    """
    if not 0.0 <= preload < 1.0:
        raise InvalidInput("preload", f"must be in [0, 1), got {preload}")
    if runner.read(COUNT_APPS)[0]["n"]:
        if not wipe:
            raise InvalidInput("database", "it already holds applications; replay into an "
                                           "empty scratch database or pass wipe")
        while runner.write(WIPE_BATCH)[0]["n"]:
            pass
    ensure_schema(runner)
    newer, cutoff, n_pre = split_export(export, work_dir / "preload", preload)
    if limit is not None:
        newer = newer[:limit]
    started = time.perf_counter()
    if n_pre:
        ingest_folder(work_dir / "preload", runner, pseudo, work_dir / "runs",
                      today=cutoff.date())
    if detector is not None:
        detector(runner, cutoff)
    preload_s = time.perf_counter() - started
    detections = 1 if detector is not None else 0
    clock = _ReplayClock()
    ctx = Lifecycle(runner=runner, pseudo=pseudo, scorers=list(scorers),
                    policy_file=policy_file, clock=clock)
    truth = {r["application_id"]: r for r in _read(export / "truth" / "applications.csv")}
    reviewed = 0
    decided: list[tuple[str, str, list[str]]] = []
    latencies: list[float] = []
    rejected = 0
    started = time.perf_counter()
    for i, row in _iter_progress(newer):
        if detector is not None and i > 1 and (i - 1) % detect_every == 0:
            detector(runner, _when(row["submitted_at"]))
            detections += 1
        t0 = time.perf_counter()
        clock.value = _when(row["submitted_at"])
        try:
            d = submit_application(ctx, row, actor="system:replay", at=clock.value)
        except LifecycleError:
            rejected += 1  # bad rows are refused, as at a real front door
            continue
        latencies.append((time.perf_counter() - t0) * 1000)
        codes = [h.code for h in d.signals.rule_hits] if d.signals else []
        decided.append((d.application_id, d.tier.value if d.tier else "?", codes))
        if review and d.case_id:
            _review(ctx, d.case_id, truth.get(d.application_id, {}))
            reviewed += 1
    replay_s = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=20) if len(latencies) >= 20 else [0.0] * 19
    return ReplayReport(
        applications=n_pre + len(newer), preloaded=n_pre, replayed=len(decided),
        rejected_rows=rejected, cutoff=cutoff.isoformat(),
        decision_ms_p50=round(statistics.median(latencies), 1) if latencies else 0.0,
        decision_ms_p95=round(q[18], 1), preload_seconds=round(preload_s, 1),
        replay_seconds=round(replay_s, 1), ring_detections=detections,
        reviewed_cases=reviewed,
        **summarise(decided, truth))
