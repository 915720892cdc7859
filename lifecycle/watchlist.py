"""The watchlist (blacklist): identities, phones, devices and accounts, with who added
an entry and why.

An entry is a ``WatchlistEntry`` node that ``LISTS`` one identifier node; the identifier
node is created when absent, so a future application carrying it meets the entry.
Adding by hand goes through four eyes (:mod:`lifecycle.approvals`); confirmed fraud adds
its identifiers automatically (:func:`add_from_application`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from graph import normalise
from graph.normalise import InvalidValue
from graph.privacy import Pseudonymiser
from graph.runner import Query, QueryRunner, Transaction
from graph.schema import BANK_ACCOUNT, DEVICE, ID_NUMBER, MOBILE, IdentifierKind, Label, Rel
from lifecycle import audit
from lifecycle.errors import InvalidInput, NotFound

#: Watchable kinds, by the name callers use.
KINDS: dict[str, IdentifierKind] = {
    "id_number": ID_NUMBER,
    "phone": MOBILE,
    "device": DEVICE,
    "bank_account": BANK_ACCOUNT,
}
W = Label.WATCHLIST_ENTRY.value


def _merge_entry(label: Label) -> Query:
    return Query(
        f"lifecycle.watchlist.add_{label.value}",
        f"""
        MERGE (n:{label.value} {{key: $key}}) ON CREATE SET n += $props
        MERGE (w:{W} {{entry_id: $entry_id}})
          ON CREATE SET w.kind = $kind, w.key = $key, w.added_by = $added_by,
                        w.added_at = $at, w.reasons = []
        SET w.active = true, w.masked = coalesce(n.masked, n.key),
            w.reasons = w.reasons + [$reason], w.approved_by = $approved_by,
            w.updated_at = $at
        MERGE (w)-[:{Rel.LISTS}]->(n)
        RETURN w.entry_id AS entry_id
        """,
    )


ADD_ENTRY = {kind.label: _merge_entry(kind.label) for kind in KINDS.values()}

APPLICATION_IDENTIFIERS = Query(
    "lifecycle.watchlist.application_identifiers",
    f"""
    MATCH (a:{Label.APPLICATION} {{application_id: $application_id}})-[r]->(n)
    WHERE type(r) IN $rels AND COUNT {{ (n)<-[]-(:{Label.APPLICATION}) }} <= $hub_cap
    RETURN labels(n)[0] AS label, n.key AS key
    """,
)

DEACTIVATE = Query(
    "lifecycle.watchlist.deactivate",
    f"MATCH (w:{W} {{entry_id: $entry_id}}) SET w.active = false, w.removed_by = $by, "
    "w.removed_at = $at, w.removed_reason = $reason RETURN w.entry_id AS entry_id",
)

LIST = Query(
    "lifecycle.watchlist.list",
    f"MATCH (w:{W}) WHERE w.active OR $include_inactive "
    "RETURN w {.entry_id, .kind, .masked, .added_by, .added_at, .reasons, .active, "
    ".approved_by} AS w ORDER BY w.added_at, w.entry_id",
)

#: Links of an application whose identifier a confirmed fraud puts on the watchlist.
#: The emergency contact's phone is left out on purpose: it is often an innocent relative.
AUTO_RELS = (Rel.APPLICANT, Rel.APPLICANT_PHONE, Rel.SUBMITTED_FROM_DEVICE,
             Rel.REPAYMENT_ACCOUNT)


class WatchlistEntry(BaseModel):
    entry_id: str
    kind: str
    masked: str
    added_by: str
    added_at: datetime
    reasons: list[str]
    active: bool
    approved_by: str | None = None


def entry_id_for(label: str, key: str) -> str:
    return f"WL-{label}-{key}"


def identifier_for(kind: str, value: str, pseudo: Pseudonymiser,
                   today: date) -> tuple[Label, str, dict[str, Any]]:
    """Normalise a clear value into (label, node key, node props) as ingest does."""
    spec = KINDS.get(kind)
    if spec is None:
        raise InvalidInput("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    try:
        clean = (normalise.id_number(value, today) if spec is ID_NUMBER
                 else spec.normaliser(value))
    except InvalidValue as exc:
        raise InvalidInput("value", f"not a valid {kind}: {exc}") from None
    if not spec.personal:
        return spec.label, clean, {"value": clean}
    assert spec.masker is not None
    protected = pseudo.protect(spec.name, clean, spec.masker(clean))
    props: dict[str, Any] = {"masked": protected.masked, "enc": protected.encrypted}
    if spec is MOBILE:
        props["is_mobile"] = normalise.is_mobile(clean)
    return spec.label, protected.token, props


def add_entry(tx: Transaction, label: Label, key: str, props: dict[str, Any], *, reason: str,
              added_by: str, at: datetime, approved_by: str | None = None) -> str:
    """Put one identifier node on the watchlist (idempotent; reasons accumulate)."""
    if not reason.strip():
        raise InvalidInput("reason", "a watchlist entry needs a reason")
    entry_id = entry_id_for(label.value, key)
    tx.run(ADD_ENTRY[label], key=key, props=props, entry_id=entry_id, kind=label.value,
           added_by=added_by, at=at, reason=reason, approved_by=approved_by)
    audit.record(tx, actor=added_by, at=at, action="watchlist.add", target=entry_id,
                 params={"kind": label.value, "reason": reason, "approved_by": approved_by})
    return entry_id


def add_from_application(tx: Transaction, application_id: str, *, reason: str, added_by: str,
                         at: datetime, hub_cap: int = 6) -> list[str]:
    """Put the identity, own phone, device and account of an application on the list.

    Hubs (identifiers of more than ``hub_cap`` applications: a dealer's kiosk tablet, a
    fleet company's account) are left off: listing them would decline everybody else.
    """
    rows = tx.run(APPLICATION_IDENTIFIERS, application_id=application_id,
                  rels=[r.value for r in AUTO_RELS], hub_cap=hub_cap)
    entries = []
    for row in rows:
        label = Label(row["label"])
        if label in ADD_ENTRY:
            entries.append(add_entry(tx, label, row["key"], {}, reason=reason,
                                     added_by=added_by, at=at))
    return sorted(entries)


def deactivate(runner: QueryRunner, entry_id: str, *, by: str, at: datetime,
               reason: str) -> None:
    with runner.transaction() as tx:
        if not tx.run(DEACTIVATE, entry_id=entry_id, by=by, at=at, reason=reason):
            raise NotFound("watchlist entry", entry_id)
        audit.record(tx, actor=by, at=at, action="watchlist.remove", target=entry_id,
                     params={"reason": reason})


def entries(runner: QueryRunner, include_inactive: bool = False) -> list[WatchlistEntry]:
    out = []
    for row in runner.read(LIST, include_inactive=include_inactive):
        w = row["w"]
        w["added_at"] = w["added_at"].to_native()
        out.append(WatchlistEntry.model_validate(w))
    return out


def request_add(ctx: Any, kind: str, value: str, *, reason: str, requested_by: str,
                today: date | None = None) -> Any:
    """The maker's half of blacklisting a clear value: normalised and pseudonymised now
    (only the token, masked form and ciphertext travel in the request); a different
    person approves with :func:`lifecycle.approvals.approve`."""
    from lifecycle import approvals

    at = ctx.clock()
    label, key, props = identifier_for(kind, value, ctx.pseudo, today or at.date())
    return approvals.request(
        ctx.runner, approvals.Action.WATCHLIST_ADD,
        {"label": label.value, "key": key, "props": props,
         "masked": props.get("masked", key)},
        requested_by=requested_by, reason=reason, at=at)
