"""The replay measurement: the split, the figures, and a tiny end-to-end run."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from lifecycle.errors import InvalidInput
from lifecycle.replay import disposition_for, replay, summarise
from tests.lifecycle.conftest import app, submit
from tests.utils import application_row, export, write_table


def test_summarise_counts_shares_and_approvals_before_a_ring_is_caught() -> None:
    truth = {
        "F1": {"is_fraud": "true", "group_id": "G1", "group_kind": "ring"},
        "F2": {"is_fraud": "true", "group_id": "G1", "group_kind": "ring"},
        "F3": {"is_fraud": "true", "group_id": "G1", "group_kind": "ring"},
        "F4": {"is_fraud": "true", "group_id": "G2", "group_kind": "ring"},
        "H1": {"is_fraud": "false", "group_id": "", "group_kind": "none"},
        "H2": {"is_fraud": "false", "group_id": "", "group_kind": "none"},
    }
    decided = [("F1", "A", []), ("H1", "A", []), ("F2", "B", ["R101"]), ("F3", "A", []),
               ("F4", "A", []), ("H2", "C", ["R104"])]
    s = summarise(decided, truth)
    assert s["fraud_flagged_share"] == 0.25 and s["honest_flagged_share"] == 0.5
    assert s["honest_declined_share"] == 0.5
    g1, g2 = s["rings"]
    assert (g1.approved_before_caught, g1.caught, g1.flagged) == (1, True, 1)
    assert (g2.approved_before_caught, g2.caught) == (1, False)
    assert s["rings_caught"] == 1 and s["approved_before_caught_mean"] == 1.0
    assert s["rule_hits"] == {"R101": 1, "R104": 1}


def test_tiny_replay_end_to_end(runner, pseudo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shared_vin = application_row(1)["vehicle_vin"]
    rows = [application_row(n, submitted_at=f"2026-03-{n:02d}T10:00:00") for n in range(1, 7)]
    rows[4]["vehicle_vin"] = shared_vin  # APP000005 finances APP000001's car
    rows[5]["applicant_id_number"] = "bad"  # refused at the front door
    folder = export(tmp_path / "export", rows)
    write_table(folder, "repayments", [{"application_id": "APP000001", "installment_no": "1",
                                        "due_date": "2026-03-02", "amount_due": "100"}])
    (folder / "truth").mkdir()
    with (folder / "truth" / "applications.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["application_id", "group_id", "group_kind", "is_fraud", "pattern"])
        for n in range(1, 7):
            fraud = n in (1, 5)
            writer.writerow([f"APP{n:06d}", "G1" if fraud else "", "ring" if fraud else "none",
                             str(fraud).lower(), ""])
    report = replay(runner, pseudo, folder, tmp_path / "work", preload=0.5, review=True)
    assert (report.preloaded, report.replayed, report.rejected_rows) == (3, 2, 1)
    assert report.reviewed_cases == 1  # APP000005 (fraud in the truth) went to review
    assert app(runner, "APP000005")["label"] == "fraud"
    assert app(runner, "APP000005")["disposition"] == "first_party_fraud"
    assert app(runner, "APP000005")["status"] == "declined"
    assert report.rule_hits == {"R103": 1}
    assert report.fraud_flagged_share == 1.0 and report.honest_flagged_share == 0.0
    assert report.tiers == {"A": 1, "B": 1}


def test_replay_refuses_a_database_with_data(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    submit(ctx, 1)
    with pytest.raises(InvalidInput, match="empty scratch database"):
        replay(ctx.runner, ctx.pseudo, tmp_path, tmp_path / "w")


def test_simulated_reviewer_dispositions() -> None:
    assert disposition_for({"is_fraud": "true", "group_kind": "dealer_cashout"}) == (
        "dealer_collusion")
    assert disposition_for({"is_fraud": "false", "group_kind": "family"}) == (
        "legitimate_relationship")
    assert disposition_for({"is_fraud": "false", "group_kind": "none"}) == "false_positive"
