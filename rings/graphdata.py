"""The identity graph as numpy arrays: what detection reads once and computes on.

Applications are positions ``0..n-1``; identifiers are positions ``0..m-1``; a link is one
(application, identifier, relationship) triple. Pure data, no I/O: tests build these by
hand, `rings.read` builds them from Neo4j.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from graph.schema import IDENTIFIER_RELS, Rel

#: The relationship types of the projection, in a fixed order: a link's ``rel`` is an
#: index into this tuple.
LINK_RELS: tuple[Rel, ...] = tuple(IDENTIFIER_RELS)
REL_INDEX: dict[Rel, int] = {rel: i for i, rel in enumerate(LINK_RELS)}

#: First-installment outcome codes of an application.
FPD_UNKNOWN, FPD_PAID, FPD_UNPAID = -1, 0, 1


@dataclass
class Applications:
    """Per-application attributes, one array entry per application position."""

    ids: np.ndarray  # application_id (object)
    submitted: np.ndarray  # epoch seconds (int64)
    dealer: np.ndarray  # dealer_id (object, '' when absent)
    agent: np.ndarray  # sales_agent_id (object, '' when absent)
    loan_amount: np.ndarray  # float64, nan when absent
    vehicle_price: np.ndarray  # float64, nan when absent
    vehicle_model: np.ndarray  # object, '' when absent
    label: np.ndarray  # 'fraud' | 'legit' | '' (object)
    fpd: np.ndarray  # FPD_* code (int8)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def blank(cls, n: int) -> Applications:
        """``n`` applications whose attributes are not known yet (absent values)."""
        return cls(ids=np.full(n, "", dtype=object), submitted=np.zeros(n, dtype=np.int64),
                   dealer=np.full(n, "", dtype=object), agent=np.full(n, "", dtype=object),
                   loan_amount=np.full(n, np.nan), vehicle_price=np.full(n, np.nan),
                   vehicle_model=np.full(n, "", dtype=object),
                   label=np.full(n, "", dtype=object),
                   fpd=np.full(n, FPD_UNKNOWN, dtype=np.int8))

    @classmethod
    def from_rows(cls, rows: list[dict]) -> Applications:
        """Build from dicts with the field names above (missing values allowed)."""
        def col(name: str, default: object, dtype: object) -> np.ndarray:
            values = [r.get(name) for r in rows]
            return np.array([default if v is None else v for v in values], dtype=dtype)

        return cls(
            ids=col("ids", "", object), submitted=col("submitted", 0, np.int64),
            dealer=col("dealer", "", object), agent=col("agent", "", object),
            loan_amount=col("loan_amount", np.nan, np.float64),
            vehicle_price=col("vehicle_price", np.nan, np.float64),
            vehicle_model=col("vehicle_model", "", object), label=col("label", "", object),
            fpd=col("fpd", FPD_UNKNOWN, np.int8),
        )


@dataclass
class Links:
    """Application-to-identifier links."""

    app: np.ndarray  # int64 application position
    ident: np.ndarray  # int64 identifier position
    rel: np.ndarray  # int8 index into LINK_RELS
    mobile: np.ndarray  # bool: the identifier is a Phone whose number is a mobile

    def __len__(self) -> int:
        return len(self.app)

    @classmethod
    def from_triples(cls, triples: list[tuple[int, int, Rel]],
                     mobiles: set[int] | None = None) -> Links:
        """Build from (application position, identifier position, Rel) triples."""
        mobiles = mobiles or set()
        return cls(
            app=np.array([t[0] for t in triples], dtype=np.int64),
            ident=np.array([t[1] for t in triples], dtype=np.int64),
            rel=np.array([REL_INDEX[t[2]] for t in triples], dtype=np.int8),
            mobile=np.array([t[1] in mobiles for t in triples], dtype=bool),
        )


@dataclass
class IdentityGraph:
    """Applications, identifiers and the links between them."""

    apps: Applications
    links: Links
    n_identifiers: int
    meta: dict = field(default_factory=dict)
    #: The portfolio's median price per vehicle model, when read from the database (the
    #: applications' attributes may then be known for some of them only); None: computed
    #: from ``apps``.
    model_medians: dict[str, float] | None = None

    @property
    def n_apps(self) -> int:
        return len(self.apps)

    def persons(self) -> np.ndarray:
        """The Person identifier of each application; ``-1 - position`` when the graph
        holds none (an ID number nobody else gave: the application's own person)."""
        person = -1 - np.arange(self.n_apps, dtype=np.int64)
        applicant = self.links.rel == REL_INDEX[Rel.APPLICANT]
        person[self.links.app[applicant]] = self.links.ident[applicant]
        return person

    def loan_to_price(self) -> np.ndarray:
        """Loan amount over vehicle price per application (nan when either is unknown)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.apps.loan_amount / self.apps.vehicle_price

    def identifier_degrees(self) -> np.ndarray:
        """Distinct applications per identifier (computed once, then cached)."""
        cached = self.meta.get("_degrees")
        if cached is None:
            # Sort-based distinct (app, identifier) pairs: a link repeated through two
            # relationship types counts once.
            pairs = np.sort(self.links.ident * np.int64(self.n_apps + 1) + self.links.app)
            if len(pairs):
                pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]
            cached = np.bincount(pairs // np.int64(self.n_apps + 1),
                                 minlength=self.n_identifiers).astype(np.int64)
            self.meta["_degrees"] = cached
        return cached
