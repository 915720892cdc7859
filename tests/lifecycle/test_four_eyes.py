"""Four eyes and the watchlist: maker and checker differ, enforced on the server."""

from __future__ import annotations

import pytest

from graph.runner import Query
from lifecycle import approvals, watchlist
from lifecycle.approvals import Action
from lifecycle.context import Lifecycle
from lifecycle.errors import FourEyesViolation, InvalidInput, NotFound, PolicyError
from lifecycle.policy import DEFAULT_POLICY
from lifecycle.servicing import contract, disburse
from tests.lifecycle.conftest import app, count, submit
from tests.utils import application_row

DEALER = Query("test.dealer", "MATCH (d:Dealer {dealer_id: $id}) RETURN d {.*} AS d")


def test_blacklisting_needs_a_second_person_then_declines_matching_applications(
        ctx: Lifecycle) -> None:
    phone = application_row(5)["applicant_phone"]
    request = watchlist.request_add(ctx, "phone", phone, reason="police report 2026-17",
                                    requested_by="analyst1")
    assert phone[-4:] not in request.params["key"] and "****" in request.params["masked"]
    with pytest.raises(FourEyesViolation, match="is the maker"):
        approvals.approve(ctx, request.approval_id, by="ANALYST1 ")
    assert count(ctx.runner, "WatchlistEntry") == 0
    assert approvals.get(ctx.runner, request.approval_id).status == "pending"

    done = approvals.approve(ctx, request.approval_id, by="supervisor1")
    assert done.status == "approved" and done.decided_by == "supervisor1"
    [entry] = watchlist.entries(ctx.runner)
    assert (entry.added_by, entry.approved_by, entry.reasons) == (
        "analyst1", "supervisor1", ["police report 2026-17"])
    with pytest.raises(FourEyesViolation, match="already approved"):
        approvals.approve(ctx, request.approval_id, by="someone_else")

    d = submit(ctx, 5)
    assert d.tier == "C" and d.reasons[0].code == "R108"
    assert d.reasons[0].text == "on the watchlist: phone"


def test_watchlist_refuses_bad_values_and_unknown_kinds(ctx: Lifecycle) -> None:
    with pytest.raises(InvalidInput, match="kind"):
        watchlist.request_add(ctx, "email", "x@y", reason="r", requested_by="a")
    with pytest.raises(InvalidInput, match="not a valid phone"):
        watchlist.request_add(ctx, "phone", "12", reason="r", requested_by="a")
    with pytest.raises(InvalidInput, match="reason"):
        watchlist.request_add(ctx, "device", "dev1", reason=" ", requested_by="a")
    assert count(ctx.runner, "Approval") == 0


def test_suspending_a_dealer_blocks_disbursement(ctx: Lifecycle) -> None:
    d = submit(ctx, 1)
    contract(ctx, d.application_id, by="ops1")
    req = approvals.request(ctx.runner, Action.SUSPEND_DEALER, {"id": "D1"},
                            requested_by="risk1", reason="document spot check failed",
                            at=ctx.clock())
    with pytest.raises(FourEyesViolation):
        approvals.approve(ctx, req.approval_id, by="risk1")
    assert not app(ctx.runner, d.application_id).get("disbursed_at")
    approvals.approve(ctx, req.approval_id, by="risk2")
    assert ctx.runner.read(DEALER, id="D1")[0]["d"]["suspended"] is True
    with pytest.raises(InvalidInput, match="suspended"):
        disburse(ctx, d.application_id, by="ops1")
    assert app(ctx.runner, d.application_id)["status"] == "contracted"


def test_policy_change_is_four_eyes_and_new_decisions_use_the_new_version(
        ctx: Lifecycle) -> None:
    stricter = DEFAULT_POLICY.model_copy(update={"version": "2026.12", "review_at": 5})
    req = approvals.request(ctx.runner, Action.CHANGE_POLICY,
                            {"policy": stricter.model_dump(mode="json")},
                            requested_by="pm1", reason="tighten after audit", at=ctx.clock())
    assert submit(ctx, 1).policy_version == DEFAULT_POLICY.version
    approvals.approve(ctx, req.approval_id, by="cro")
    d = submit(ctx, 2, loan_amount="400000", monthly_income="10000")  # R110: 10 points
    assert (d.policy_version, d.tier) == ("2026.12", "B")
    # a different body under a used version is refused, and the active policy stays
    clash = DEFAULT_POLICY.model_copy(update={"version": "2026.12", "review_at": 7})
    req2 = approvals.request(ctx.runner, Action.CHANGE_POLICY,
                             {"policy": clash.model_dump(mode="json")},
                             requested_by="pm1", reason="typo", at=ctx.clock())
    with pytest.raises(PolicyError, match="new version"):
        approvals.approve(ctx, req2.approval_id, by="cro")
    assert approvals.get(ctx.runner, req2.approval_id).status == "pending"
    assert submit(ctx, 3).policy_version == "2026.12"


def test_actions_owned_elsewhere_are_approved_for_their_owner(ctx: Lifecycle) -> None:
    req = approvals.request(ctx.runner, "promote_model", {"model_version": "gnn-7"},
                            requested_by="ds1", reason="beats champion", at=ctx.clock())
    with pytest.raises(FourEyesViolation, match="pending"):
        approvals.require_approved(ctx.runner, req.approval_id, Action.PROMOTE_MODEL)
    approvals.approve(ctx, req.approval_id, by="ds2")
    ok = approvals.require_approved(ctx.runner, req.approval_id, Action.PROMOTE_MODEL)
    assert ok.params == {"model_version": "gnn-7"}
    with pytest.raises(FourEyesViolation, match="not export_unmasked"):
        approvals.require_approved(ctx.runner, req.approval_id, Action.EXPORT_UNMASKED)
    with pytest.raises(InvalidInput, match="action"):
        approvals.request(ctx.runner, "launch_rockets", {}, requested_by="a", reason="r",
                          at=ctx.clock())
    with pytest.raises(NotFound):
        approvals.approve(ctx, "APR-nope", by="x")


def test_rejected_request_changes_nothing(ctx: Lifecycle) -> None:
    req = approvals.request(ctx.runner, Action.SUSPEND_AGENT, {"id": "SA1"},
                            requested_by="risk1", reason="r", at=ctx.clock())
    submit(ctx, 1)
    rejected = approvals.reject(ctx.runner, req.approval_id, "risk2", ctx.clock())
    assert rejected.status == "rejected"
    with pytest.raises(FourEyesViolation):
        approvals.approve(ctx, req.approval_id, by="risk3")


RING2 = Query(
    "test.ring_confirm",
    "CREATE (r:Ring {ring_id: 'RING7', score: 50.0}) WITH r UNWIND $ids AS id "
    "MATCH (a:Application {application_id: id}) CREATE (a)-[:MEMBER_OF]->(r)",
)
RING2_STATE = Query("test.ring_confirm_state",
                    "MATCH (r:Ring {ring_id: 'RING7'}) RETURN r {.*} AS r")


def test_confirming_a_ring_as_fraud_labels_members_and_blacklists_them(
        ctx: Lifecycle) -> None:
    submit(ctx, 1)
    submit(ctx, 2)
    submit(ctx, 3)
    ctx.runner.write(RING2, ids=["APP000001", "APP000002"])
    req = approvals.request(ctx.runner, Action.CONFIRM_RING_FRAUD, {"ring_id": "RING7"},
                            requested_by="inv1", reason="shared devices, FPD burst",
                            at=ctx.clock())
    with pytest.raises(FourEyesViolation):
        approvals.approve(ctx, req.approval_id, by="inv1")
    assert app(ctx.runner, "APP000001").get("label") is None
    done = approvals.approve(ctx, req.approval_id, by="head_of_fraud")
    assert done.result == {"ring_id": "RING7", "members": 2, "watchlist": 8}
    ring = ctx.runner.read(RING2_STATE)[0]["r"]
    assert (ring["status"], ring["confirmed_by"], ring["confirmed_approved_by"]) == (
        "confirmed_fraud", "inv1", "head_of_fraud")
    assert [app(ctx.runner, f"APP00000{n}").get("label") for n in (1, 2, 3)] == [
        "fraud", "fraud", None]
    missing = approvals.request(ctx.runner, Action.CONFIRM_RING_FRAUD, {"ring_id": "NOPE"},
                                requested_by="inv1", reason="typo", at=ctx.clock())
    with pytest.raises(NotFound):
        approvals.approve(ctx, missing.approval_id, by="head_of_fraud")
    assert approvals.get(ctx.runner, missing.approval_id).status == "pending"
