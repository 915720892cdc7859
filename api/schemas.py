"""Request and response models of the API. Responses carry masked values only; a clear
value appears only in ``RevealedValue``, which the reveal route audits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from graph.schema import LINKS
from lifecycle.approvals import Approval

#: The kinds an entity can be looked up by: every identifier kind, plus lender ids.
IDENTIFIER_KIND_NAMES = tuple(dict.fromkeys(link.kind.name for link in LINKS))
LOOKUP_KINDS = (*IDENTIFIER_KIND_NAMES, "dealer", "sales_agent", "application")
LookupKind = Literal[LOOKUP_KINDS]  # type: ignore[valid-type]


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    role: str


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    neo4j: Literal["up", "down"]
    version: str


class LookupRequest(BaseModel):
    kind: LookupKind = Field(description="What the value is")
    value: str = Field(min_length=1, max_length=200,
                       description="As typed: normalised and hashed as ingest does")


class GraphNode(BaseModel):
    id: str
    label: str
    caption: str
    props: dict[str, Any]


class GraphEdge(BaseModel):
    source: str
    target: str
    type: str


class GraphView(BaseModel):
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    truncated: bool = False


class LinkedApplication(BaseModel):
    application_id: str
    relationship: str
    submitted_at: str | None
    dealer_id: str | None
    status: str | None


class EntityView(BaseModel):
    node: GraphNode
    applications: list[LinkedApplication]


class RevealRequest(BaseModel):
    node: str = Field(description="Node reference 'Label:key'")
    reason: str = Field(min_length=5, max_length=500, description="Why the clear value is "
                        "needed; kept in the audit log")


class RevealedValue(BaseModel):
    node: str
    value: str
    audit_event: str


def _application_in() -> type[BaseModel]:
    """The submit body: exactly the contract's application columns, read from the contract
    declaration (required ones required; values as text, validated by the domain)."""
    from pydantic import create_model

    from ingest.contract import APPLICATIONS

    fields: dict[str, Any] = {
        column.name: (str, Field(min_length=1, max_length=500)) if column.required
        else (str | None, Field(default=None, max_length=500))
        for column in APPLICATIONS.columns
    }
    return create_model("ApplicationIn", **fields)


ApplicationIn = _application_in()


def _repayment_in() -> type[BaseModel]:
    """One installment of an application (a contract ``repayments`` row without the
    application id, which is in the path): text values, validated by the domain."""
    from pydantic import create_model

    from ingest.contract import REPAYMENTS

    fields: dict[str, Any] = {
        column.name: (str, Field(min_length=1, max_length=100)) if column.required
        else (str | None, Field(default=None, max_length=100))
        for column in REPAYMENTS.columns if column.name != "application_id"
    }
    return create_model("RepaymentIn", **fields)


RepaymentIn = _repayment_in()


class TransitionIn(BaseModel):
    target: str = Field(description="contracted, disbursed, declined, ...")
    reason: str = Field(min_length=3, max_length=500)


class HumanReviewIn(BaseModel):
    reason: str = Field(min_length=3, max_length=1000, description="The applicant's request")


class AssignIn(BaseModel):
    assignee: str = Field(min_length=1, max_length=100)


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=5000)


class CloseIn(BaseModel):
    disposition: str
    reason: str = Field(min_length=3, max_length=1000)


class EscalateIn(BaseModel):
    reason: str = Field(min_length=3, max_length=1000)


# --- watchlist and four eyes (issue 6)
class WatchlistIn(BaseModel):
    kind: Literal["id_number", "phone", "device", "bank_account"] = Field(
        description="What the value is")
    value: str = Field(min_length=1, max_length=200,
                       description="As typed: normalised and hashed as ingest does")
    reason: str = Field(min_length=5, max_length=1000)


class RingConfirmIn(BaseModel):
    reason: str = Field(min_length=5, max_length=1000)


def _as_utc(value: datetime) -> datetime:
    """Neo4j takes UTC offsets up to ±18:00, Python up to ±23:59; only the instant
    matters, so it travels as UTC. An instant outside the supported dates is a 422."""
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("the instant is outside the supported dates") from exc


#: A client's point in time: with its offset (a naive time is ambiguous), kept as UTC.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_as_utc)]


class ApprovalView(Approval):
    """A four-eyes request as clients see it: tokens and ciphertexts left out."""

    @classmethod
    def of(cls, approval: Approval) -> ApprovalView:
        """A watchlist request carries the keyed token and the ciphertext of the value,
        which stay on the server."""
        data = approval.model_dump()
        data["params"] = {k: v for k, v in data["params"].items() if k not in _PRIVATE_PARAMS}
        return cls.model_validate(data)


_PRIVATE_PARAMS = frozenset({"key", "props"})
