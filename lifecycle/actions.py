"""What an approved four-eyes action does. Registered with :mod:`lifecycle.approvals`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from graph.runner import Query
from graph.schema import Label
from lifecycle import approvals, audit, policy_store, rings_link, transitions, watchlist
from lifecycle.approvals import Action, Approval, handler
from lifecycle.context import Lifecycle
from lifecycle.decision import store_decision
from lifecycle.errors import InvalidInput, NotFound
from lifecycle.policy import Reason, parse_policy
from lifecycle.states import LoanState

SUSPEND_DEALER = Query(
    "lifecycle.actions.suspend_dealer",
    f"MATCH (d:{Label.DEALER} {{dealer_id: $id}}) SET d.suspended = true, "
    "d.suspended_at = $at, d.suspended_by = $by, d.suspended_reason = $reason "
    "RETURN d.dealer_id AS id",
)
SUSPEND_AGENT = Query(
    "lifecycle.actions.suspend_agent",
    f"MATCH (s:{Label.SALES_AGENT} {{agent_id: $id}}) SET s.suspended = true, "
    "s.suspended_at = $at, s.suspended_by = $by, s.suspended_reason = $reason "
    "RETURN s.agent_id AS id",
)
LABEL_RING_MEMBERS = Query(
    "lifecycle.actions.label_ring_members",
    f"UNWIND $ids AS id MATCH (a:{Label.APPLICATION} {{application_id: id}}) "
    "SET a.label = 'fraud', a.label_source = 'ring:' + $ring_id, a.labeled_at = $at, "
    "a.disposition = coalesce(a.disposition, 'confirmed_ring')",
)


def _param(approval: Approval, name: str) -> Any:
    if name not in approval.params:
        raise InvalidInput(name, f"approval {approval.approval_id} ({approval.action}) lacks "
                                 f"parameter {name!r}")
    return approval.params[name]


@handler(Action.OVERRIDE_DECLINE)
def _override(ctx: Lifecycle, approval: Approval, by: str, at: datetime) -> dict[str, Any]:
    app_id = _param(approval, "application_id")
    text = f"decline overridden by {approval.requested_by}, approved by {by}: {approval.reason}"
    with ctx.runner.transaction() as tx:
        current = transitions.current_status(tx, app_id)
        transitions.apply(tx, app_id, current, LoanState.APPROVED, actor=by, at=at,
                          reason=text)
        store_decision(tx, app_id, outcome=LoanState.APPROVED.value, actor=by, at=at,
                       automated=False, reasons=[Reason(code="H001", text=text, points=0)])
    return {"application_id": app_id, "status": LoanState.APPROVED.value}


@handler(Action.WATCHLIST_ADD)
def _watchlist(ctx: Lifecycle, approval: Approval, by: str, at: datetime) -> dict[str, Any]:
    label = Label(_param(approval, "label"))
    if label not in watchlist.ADD_ENTRY:
        raise InvalidInput("label", f"{label} cannot be put on the watchlist")
    with ctx.runner.transaction() as tx:
        entry = watchlist.add_entry(tx, label, _param(approval, "key"),
                                    approval.params.get("props", {}), reason=approval.reason,
                                    added_by=approval.requested_by, at=at, approved_by=by)
    return {"entry_id": entry}


def _suspend(ctx: Lifecycle, approval: Approval, by: str, at: datetime, query: Query,
             kind: str) -> dict[str, Any]:
    ident = _param(approval, "id")
    with ctx.runner.transaction() as tx:
        if not tx.run(query, id=ident, at=at, by=f"{approval.requested_by}+{by}",
                      reason=approval.reason):
            raise NotFound(kind, ident)
        audit.record(tx, actor=by, at=at, action=f"{kind}.suspend", target=ident)
    return {"id": ident, "suspended": True}


@handler(Action.SUSPEND_DEALER)
def _suspend_dealer(ctx: Lifecycle, approval: Approval, by: str, at: datetime
                    ) -> dict[str, Any]:
    return _suspend(ctx, approval, by, at, SUSPEND_DEALER, "dealer")


@handler(Action.SUSPEND_AGENT)
def _suspend_agent(ctx: Lifecycle, approval: Approval, by: str, at: datetime
                   ) -> dict[str, Any]:
    return _suspend(ctx, approval, by, at, SUSPEND_AGENT, "sales agent")


@handler(Action.CHANGE_POLICY)
def _change_policy(ctx: Lifecycle, approval: Approval, by: str, at: datetime
                   ) -> dict[str, Any]:
    policy = parse_policy(_param(approval, "policy"))
    with ctx.runner.transaction() as tx:
        policy_store.activate(tx, policy, by=approval.requested_by, approved_by=by, at=at)
        audit.record(tx, actor=by, at=at, action="policy.activate", target=policy.version)
    return {"version": policy.version}


@handler(Action.CONFIRM_RING_FRAUD)
def _confirm_ring(ctx: Lifecycle, approval: Approval, by: str, at: datetime
                  ) -> dict[str, Any]:
    ring_id = str(_param(approval, "ring_id"))
    rows = ctx.runner.read(rings_link.RING_MEMBERS, ring_id=ring_id)
    if not rows:
        raise NotFound("ring", ring_id)
    members = [m for m in rows[0]["members"] if m]
    with ctx.runner.transaction() as tx:
        tx.run(rings_link.CONFIRM, ring_id=ring_id, by=approval.requested_by,
               approved_by=by, at=at)
        tx.run(LABEL_RING_MEMBERS, ids=members, ring_id=ring_id, at=at)
        entries: list[str] = []
        for app_id in members:
            entries += watchlist.add_from_application(
                tx, app_id, reason=f"member of ring {ring_id} confirmed as fraud",
                added_by=f"system:ring:{by}", at=at)
        audit.record(tx, actor=by, at=at, action="ring.confirm_fraud", target=ring_id,
                     params={"members": len(members)})
    return {"ring_id": ring_id, "members": len(members), "watchlist": len(set(entries))}


__all__ = ["approvals"]
