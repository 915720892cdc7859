"""Replacing the champion model is a four-eyes action."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gnn.promotion import PromotionRefused, check_promotion
from graph.privacy import Pseudonymiser
from graph.runner import QueryRunner
from lifecycle import approvals
from lifecycle.context import Lifecycle

NOW = datetime(2026, 11, 2, 10, tzinfo=UTC)


def _request(runner: QueryRunner, version: str, action: str = "promote_model") -> str:
    return approvals.request(runner, action, {"version": version}, requested_by="ml.chen",
                             reason="beats both baselines", at=NOW).approval_id


def test_first_champion_needs_no_approval(runner: QueryRunner, tmp_path: Path) -> None:
    check_promotion(runner, tmp_path, "v1", None)  # does not raise


def test_replacing_the_champion_needs_an_approved_request_for_that_version(
        runner: QueryRunner, pseudo: Pseudonymiser, tmp_path: Path) -> None:
    (tmp_path / "champion.json").write_text(json.dumps({"version": "v1"}))
    with pytest.raises(PromotionRefused, match="approvals request promote_model"):
        check_promotion(runner, tmp_path, "v2", None)
    pending = _request(runner, "v2")
    with pytest.raises(PromotionRefused, match="not approved"):
        check_promotion(runner, tmp_path, "v2", pending)
    ctx = Lifecycle(runner=runner, pseudo=pseudo, clock=lambda: NOW)
    with pytest.raises(Exception, match="maker"):
        approvals.approve(ctx, pending, "ml.chen")  # the maker cannot check
    approvals.approve(ctx, pending, "risk.head")
    check_promotion(runner, tmp_path, "v2", pending)  # approved: allowed
    with pytest.raises(PromotionRefused, match="not 'v3'"):
        check_promotion(runner, tmp_path, "v3", pending)
    other = _request(runner, "v2", action="export_unmasked")
    approvals.approve(ctx, other, "risk.head")
    with pytest.raises(PromotionRefused, match="export_unmasked"):
        check_promotion(runner, tmp_path, "v2", other)
