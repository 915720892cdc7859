"""A small hand-built portfolio with one detected ring, loaded the way production loads it
(ingest, then ring detection), for the console's page and browser tests.

APP000001-4 share one device and two payout accounts (the ring; APP000001 is labelled
fraud); APP000005-6 share a home only; APP000007-10 go through a second dealer in April
(March for the others: two months of scores for the Model page) and share nothing but the
showroom IP, a hub at ``hub_cap=6``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from graph.privacy import Pseudonymiser
from graph.runner import QueryRunner
from ingest.pipeline import ingest_folder
from rings.config import RingConfig
from rings.detect import run_detection
from tests.utils import application_row, dealer_row, export, write_table

RING_MEMBERS = ("APP000001", "APP000002", "APP000003", "APP000004")
RING_DEVICE = "ring-device"
DETECTED_AT = datetime(2026, 11, 1, tzinfo=UTC)


def rows() -> list[dict[str, str]]:
    out = []
    for n in range(1, 11):
        overrides = {"ip_address": "10.9.9.9", "dealer_id": "D1" if n <= 6 else "D2"}
        if n <= 4:
            overrides |= {"device_id": RING_DEVICE,
                          "bank_account": "6222000011112222" if n <= 2 else "6222000033334444",
                          "submitted_at": f"2026-03-0{n}T10:00:00"}
        if n in (5, 6):
            overrides["home_address"] = "上海市黄浦区人民路1号"
        if n >= 7:
            overrides["submitted_at"] = f"2026-04-{n:02d}T10:00:00"
        out.append(application_row(n, **overrides))
    return out


def load_ring_portfolio(runner: QueryRunner, pseudo: Pseudonymiser, folder: Path) -> str:
    """Ingest the portfolio, detect rings, and return the ring id of APP000001-4."""
    export(folder / "export", rows(), dealers=[dealer_row("D1"), dealer_row("D2")])
    write_table(folder / "export", "labels",
                [{"application_id": "APP000001", "label": "fraud", "source": "investigation",
                  "labeled_at": "2026-06-01T10:00:00"}])
    ingest_folder(folder / "export", runner, pseudo, folder / "reports")
    result = run_detection(runner, RingConfig(hub_cap=6), now=DETECTED_AT)
    [ring_id] = result.ring_ids
    return ring_id
