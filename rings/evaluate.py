"""Detected rings against a generated portfolio's ground truth.

Truth files are ``truth/applications.csv`` (application_id, group_id, group_kind, ...) and
``truth/groups.csv``. A true ring is a fraud group of 3+ applications; it is recovered
when the detected ring that matches it best has a Jaccard index of at least 0.5. An
honest look-alike group is flagged when any detected ring holding half or more of its
applications scores above the alert threshold.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd
from pydantic import BaseModel

FRAUD_KINDS = ("synthetic_identity_ring", "identity_theft", "fake_employer_mill",
               "dealer_cashout")
LOOKALIKE_KINDS = ("family", "fleet", "dormitory", "repeat_customer")
RECOVERED_JACCARD = 0.5


class KindFigures(BaseModel):
    groups: int
    recovered: int = 0
    mean_best_jaccard: float = 0.0
    flagged: int = 0


class Evaluation(BaseModel):
    """The quality figures of one detection against one truth."""

    true_rings: int
    recovered: int
    recovery: float
    mean_best_jaccard: float
    detected_rings: int
    flagged_rings: int
    precision_at: dict[int, float]
    lookalike_groups: int
    lookalikes_flagged: int
    lookalike_flag_share: float
    per_kind: dict[str, KindFigures]


def read_truth(folder: Path) -> pd.DataFrame:
    """application_id, group_id, group_kind of every grouped application in ``folder``."""
    path = folder / "truth" / "applications.csv" if (folder / "truth").is_dir() \
        else folder / "applications.csv"
    if not path.exists():
        raise FileNotFoundError(f"no truth file at {path} (expected truth/applications.csv)")
    truth = pd.read_csv(path, dtype=str, keep_default_na=False)
    return truth[truth["group_kind"] != "none"][["application_id", "group_id", "group_kind"]]


def evaluate(truth: pd.DataFrame, rings: dict[str, list[str]], scores: dict[str, float],
             alert_threshold: float, ks: tuple[int, ...] = (10, 50, 100)) -> Evaluation:
    """Compare detected ``rings`` (ring id -> application ids) and their ``scores``."""
    ring_of: dict[str, str] = {app: rid for rid, apps in rings.items() for app in apps}
    ring_size = {rid: len(apps) for rid, apps in rings.items()}
    groups = truth.groupby("group_id")
    kind_of = groups["group_kind"].first().to_dict()
    fraud_app_group = {a: g for a, g, k in truth.itertuples(index=False) if k in FRAUD_KINDS}
    per_kind = {k: KindFigures(groups=0) for k in FRAUD_KINDS + LOOKALIKE_KINDS}
    jaccards: list[float] = []
    flagged_lookalikes = 0
    for gid, members in groups["application_id"]:
        kind = kind_of[gid]
        overlap = Counter(ring_of[a] for a in members if a in ring_of)
        figures = per_kind.setdefault(kind, KindFigures(groups=0))
        if kind in FRAUD_KINDS and len(members) >= 3:
            best = max((n / (len(members) + ring_size[r] - n) for r, n in overlap.items()),
                       default=0.0)
            jaccards.append(best)
            figures.groups += 1
            figures.recovered += best >= RECOVERED_JACCARD
            figures.mean_best_jaccard += best
        elif kind in LOOKALIKE_KINDS:
            figures.groups += 1
            hit = any(n * 2 >= len(members) and scores.get(r, 0.0) > alert_threshold
                      for r, n in overlap.items())
            figures.flagged += hit
            flagged_lookalikes += hit
    for figures in per_kind.values():
        if figures.recovered or figures.mean_best_jaccard:
            figures.mean_best_jaccard /= max(figures.groups, 1)
    lookalikes = sum(per_kind[k].groups for k in LOOKALIKE_KINDS)
    return Evaluation(
        true_rings=len(jaccards),
        recovered=sum(j >= RECOVERED_JACCARD for j in jaccards),
        recovery=_share(sum(j >= RECOVERED_JACCARD for j in jaccards), len(jaccards)),
        mean_best_jaccard=_share(sum(jaccards), len(jaccards)),
        detected_rings=len(rings),
        flagged_rings=sum(s > alert_threshold for s in scores.values()),
        precision_at=_precision_at(rings, scores, fraud_app_group, ks),
        lookalike_groups=lookalikes,
        lookalikes_flagged=flagged_lookalikes,
        lookalike_flag_share=_share(flagged_lookalikes, lookalikes),
        per_kind=per_kind,
    )


def _precision_at(rings: dict[str, list[str]], scores: dict[str, float],
                  fraud_app_group: dict[str, str], ks: tuple[int, ...]) -> dict[int, float]:
    """Share of the top-k rings by score whose majority are applications of fraud groups."""
    ranked = sorted(rings, key=lambda r: -scores.get(r, 0.0))
    hits = []
    for rid in ranked:
        members = rings[rid]
        hits.append(sum(a in fraud_app_group for a in members) * 2 > len(members))
    return {k: _share(sum(hits[:k]), min(k, len(hits))) for k in ks}


def _share(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else 0.0


def rings_from_membership(app_ids: list[str], membership: list[int]) -> dict[str, list[str]]:
    """Ring id -> members from a membership array (-1: no ring)."""
    rings: dict[str, list[str]] = defaultdict(list)
    for app, group in zip(app_ids, membership, strict=True):
        if group >= 0:
            rings[str(group)].append(app)
    return dict(rings)
