"""The fraud graph's domain, declared once.

Node labels, relationship types, identifier kinds with their normalisers and maskers, and
which contract column links an application to which identifier through which
relationship. Ingest, queries, ring detection, the GNN, the API schemas and the console
all read these declarations; nothing else spells a label or a relationship type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from graph import normalise, privacy


class Label(StrEnum):
    APPLICATION = "Application"
    PERSON = "Person"
    PHONE = "Phone"
    DEVICE = "Device"
    IP = "IP"
    ADDRESS = "Address"
    EMPLOYER = "Employer"
    BANK_ACCOUNT = "BankAccount"
    VEHICLE = "Vehicle"
    DEALER = "Dealer"
    SALES_AGENT = "SalesAgent"
    INSTALLMENT = "Installment"
    INGEST_RUN = "IngestRun"
    RING = "Ring"  # a candidate collusion ring found by one detection run (rings/)
    DETECTION_RUN = "DetectionRun"  # one run of ring detection, with its parameters
    # lifecycle (issue 5)
    DECISION = "Decision"
    CASE = "Case"
    CASE_NOTE = "CaseNote"
    WATCHLIST_ENTRY = "WatchlistEntry"
    TRANSITION = "Transition"
    AUDIT_EVENT = "AuditEvent"
    POLICY = "Policy"
    APPROVAL = "Approval"
    USER = "User"  # a person who signs in to the API and the console (api/)


class Rel(StrEnum):
    APPLICANT = "APPLICANT"  # Application -> Person whose ID number was given
    APPLICANT_PHONE = "APPLICANT_PHONE"  # the applicant's own mobile
    CONTACT_PHONE = "CONTACT_PHONE"  # listed as emergency contact's phone
    EMPLOYER_PHONE = "EMPLOYER_PHONE"  # given as the employer's phone
    SUBMITTED_FROM_DEVICE = "SUBMITTED_FROM_DEVICE"
    SUBMITTED_FROM_IP = "SUBMITTED_FROM_IP"
    HOME_ADDRESS = "HOME_ADDRESS"
    EMPLOYED_BY = "EMPLOYED_BY"
    REPAYMENT_ACCOUNT = "REPAYMENT_ACCOUNT"
    FINANCES = "FINANCES"  # Application -> Vehicle
    SUBMITTED_VIA = "SUBMITTED_VIA"  # Application -> Dealer
    HANDLED_BY = "HANDLED_BY"  # Application -> SalesAgent
    WORKS_AT = "WORKS_AT"  # SalesAgent -> Dealer
    HAS_INSTALLMENT = "HAS_INSTALLMENT"  # Application -> Installment
    MEMBER_OF = "MEMBER_OF"  # Application -> Ring, with the detection run's id
    DETECTED_IN = "DETECTED_IN"  # Ring -> DetectionRun
    # lifecycle (issue 5)
    HAS_DECISION = "HAS_DECISION"  # Application -> Decision
    HAS_CASE = "HAS_CASE"  # Application -> Case
    HAS_NOTE = "HAS_NOTE"  # Case -> CaseNote
    LISTS = "LISTS"  # WatchlistEntry -> identifier node (Person, Phone, Device, ...)
    HAS_TRANSITION = "HAS_TRANSITION"  # Application -> Transition


@dataclass(frozen=True)
class IdentifierKind:
    """A kind of node that applications share.

    ``personal`` values are stored as a keyed-hash ``key``, an encrypted clear value and a
    masked display form; the others keep their normalised value as ``key``.
    """

    name: str
    label: Label
    normaliser: Callable[[str], str]
    personal: bool
    masker: Callable[[str], str] | None = None


ID_NUMBER = IdentifierKind("id_number", Label.PERSON, normalise.id_number, True,
                           privacy.mask_id_number)
MOBILE = IdentifierKind("phone", Label.PHONE, normalise.mobile_phone, True, privacy.mask_phone)
# Employer phones share the Phone label (and token space) with mobiles on purpose: an
# employer "switchboard" that is somebody's own mobile must meet that person's node.
ANY_PHONE = IdentifierKind("phone", Label.PHONE, normalise.any_phone, True, privacy.mask_phone)
DEVICE = IdentifierKind("device", Label.DEVICE, normalise.device_id, False)
IP = IdentifierKind("ip", Label.IP, normalise.ip_address, False)
ADDRESS = IdentifierKind("address", Label.ADDRESS, normalise.address, True,
                         privacy.mask_address)
EMPLOYER = IdentifierKind("employer", Label.EMPLOYER, normalise.employer_name, False)
BANK_ACCOUNT = IdentifierKind("bank_account", Label.BANK_ACCOUNT, normalise.bank_account, True,
                              privacy.mask_account)
VEHICLE = IdentifierKind("vehicle", Label.VEHICLE, normalise.vin, False)


@dataclass(frozen=True)
class Link:
    """An application's link to a shared identifier, from one contract column."""

    column: str
    rel: Rel
    kind: IdentifierKind
    required: bool = False


#: Every identifier link of an application, in contract column order.
LINKS: tuple[Link, ...] = (
    Link("applicant_id_number", Rel.APPLICANT, ID_NUMBER, required=True),
    Link("applicant_phone", Rel.APPLICANT_PHONE, MOBILE, required=True),
    Link("device_id", Rel.SUBMITTED_FROM_DEVICE, DEVICE),
    Link("ip_address", Rel.SUBMITTED_FROM_IP, IP),
    Link("employer_name", Rel.EMPLOYED_BY, EMPLOYER),
    Link("employer_phone", Rel.EMPLOYER_PHONE, ANY_PHONE),
    Link("home_address", Rel.HOME_ADDRESS, ADDRESS),
    Link("contact_phone", Rel.CONTACT_PHONE, MOBILE),
    Link("bank_account", Rel.REPAYMENT_ACCOUNT, BANK_ACCOUNT),
    Link("vehicle_vin", Rel.FINANCES, VEHICLE),
)

#: Relationship types from an application to a shared identifier, with the label at the end.
IDENTIFIER_RELS: dict[Rel, Label] = {link.rel: link.kind.label for link in LINKS}

#: The labels of identifier nodes, each keyed by its ``key`` property.
IDENTIFIER_LABELS: tuple[Label, ...] = tuple(dict.fromkeys(link.kind.label for link in LINKS))

#: The relationships an application's own row gives it, with the label at the end: its
#: identifiers, its dealer and its sales agent. A changed row replaces all of them; the
#: GNN's edge types are these (``gnn.data.GRAPH_RELS``).
ROW_RELS: dict[Rel, Label] = {
    **IDENTIFIER_RELS,
    Rel.SUBMITTED_VIA: Label.DEALER,
    Rel.HANDLED_BY: Label.SALES_AGENT,
}

#: The application property listing (sorted, distinct) which ``ROW_RELS`` it has. Written
#: with the links, so that a reader of many applications (the GNN's neighbourhood read)
#: takes one property instead of walking each one's relationships, installments,
#: decisions and transitions included.
LINK_KINDS = "link_kinds"

#: Where a node keeps the ciphertext of the personal value the audited reveal may show:
#: an identifier node its own value, an application its applicant's name.
ENCRYPTED_VALUE: dict[Label, str] = {Label.APPLICATION: "applicant_name_enc",
                                     **{label: "enc" for label in IDENTIFIER_LABELS}}

#: The unique key property of every label that has one.
NODE_KEYS: dict[Label, str] = {
    Label.APPLICATION: "application_id",
    Label.DEALER: "dealer_id",
    Label.SALES_AGENT: "agent_id",
    Label.INSTALLMENT: "key",
    Label.INGEST_RUN: "run_id",
    Label.USER: "username",
    Label.RING: "ring_key",  # ring_id + run_id: one node per ring per run
    Label.DETECTION_RUN: "run_id",
    Label.DECISION: "decision_id",
    Label.CASE: "case_id",
    Label.CASE_NOTE: "note_id",
    Label.WATCHLIST_ENTRY: "entry_id",
    Label.TRANSITION: "transition_id",
    Label.AUDIT_EVENT: "event_id",
    Label.POLICY: "version",
    Label.APPROVAL: "approval_id",
    **{label: "key" for label in IDENTIFIER_LABELS},
}


def _validate() -> None:
    """Fail at import when the declarations contradict each other."""
    rels = [link.rel for link in LINKS]
    if len(rels) != len(set(rels)):
        raise RuntimeError("graph.schema: a relationship type is used by two links")
    for link in LINKS:
        if link.kind.personal and link.kind.masker is None:
            raise RuntimeError(f"graph.schema: personal kind {link.kind.name} has no masker")
    from ingest.contract import APPLICATIONS

    missing = {link.column for link in LINKS} - set(APPLICATIONS.column_names)
    if missing:
        raise RuntimeError(f"graph.schema: links name columns not in the contract: {missing}")


_validate()
