"""Ring detection's parameters, in one model, overridable from a TOML or JSON file.

Weights say how strong the evidence is when two applications share an identifier through a
given link; hub damping lowers them by how many applications the identifier touches. All
of it is configuration: `fraudgraph detect` records the parameters it ran with in the
detection run, so a ring can always be traced back to them.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from graph.schema import IDENTIFIER_RELS, Rel

#: Evidence weight of a shared identifier per link kind, before hub damping. A device or a
#: payout account shared by a few applications is strong, an IP or an employer's name weak.
DEFAULT_WEIGHTS: dict[Rel, float] = {
    Rel.APPLICANT: 1.0,
    Rel.APPLICANT_PHONE: 1.0,
    Rel.CONTACT_PHONE: 0.6,
    Rel.EMPLOYER_PHONE: 0.3,
    Rel.SUBMITTED_FROM_DEVICE: 1.0,
    Rel.SUBMITTED_FROM_IP: 0.45,
    Rel.HOME_ADDRESS: 0.6,
    Rel.EMPLOYED_BY: 0.2,
    Rel.REPAYMENT_ACCOUNT: 1.0,
    Rel.FINANCES: 1.0,
}


class ScoreWeights(BaseModel):
    """Points each piece of ring evidence adds to the ring score (0-100 after capping)."""

    model_config = ConfigDict(extra="forbid")

    fraud_label: float = 45.0  # times the share of members labelled fraud
    first_payment_default: float = 40.0  # times the share of due first installments unpaid
    payout_reuse: float = 10.0  # a payout account used by several applicants
    vin_reuse: float = 15.0  # one car financed twice
    employer_mobile: float = 20.0  # an employer phone that is somebody's mobile
    price_inflation: float = 20.0  # times the share of members priced well above the model
    id_multi_dealer: float = 25.0  # one ID number at several dealers within days
    burst: float = 10.0  # short time window for a group of several applicants
    shared_kinds: float = 2.0  # per identifier kind shared inside the ring beyond two
    agent_concentration: float = 8.0  # one agent handling most of a multi-person ring
    minimal_down_payment: float = 15.0  # times the share of members financing ~all the price
    legit_label: float = -25.0  # times the share of members cleared as legitimate


class RingConfig(BaseModel):
    """Every parameter of ring detection and scoring."""

    model_config = ConfigDict(extra="forbid")

    weights: dict[Rel, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    #: An employer phone that is a mobile gets this weight instead of the EMPLOYER_PHONE one.
    employer_mobile_weight: float = 1.0
    #: A pair's weight through an identifier of degree d is w * (2 / d) ** exponent.
    hub_damping_exponent: float = 0.6
    #: Identifiers touching more applications are not expanded into pairs (quadratic); they
    #: are kept as weak evidence: counted per ring and named in the run's counts.
    hub_cap: int = 100
    #: Pairs at or above this weight are strong links: connected components run on them.
    strong_threshold: float = 0.45
    #: Components larger than this are split with Leiden.
    max_component_size: int = 15
    leiden_resolution: float = 1.0
    leiden_iterations: int = 5
    seed: int = 7
    #: Agent bridges (rings.bridges): an application financing at least this share of the
    #: vehicle's price has a minimal down payment, a straw borrower's mark.
    straw_loan_to_price: float = 0.82
    #: A strong-link fragment is straw-like when this share of its members are.
    straw_fragment_share: float = 0.75
    #: Straw-like fragments booked by one sales agent within this many days are bridged
    #: into one candidate ring (0 turns agent bridges off).
    agent_bridge_days: int = 90
    #: Weight of a bridge in the strong graph (what Leiden sees when it splits).
    agent_bridge_weight: float = 0.5
    #: Read queries in flight at once. On a two-core machine three in flight took longer
    #: than one after another (concurrent scans fight over the same cores).
    read_workers: int = 1
    #: Groups smaller than this are not rings.
    min_ring_size: int = 3
    #: Ring score (0-100) above which a ring is flagged for investigators.
    alert_threshold: float = 50.0
    #: A member is priced "well above" when its price exceeds the model's median by this.
    price_inflation_ratio: float = 1.15
    #: Window (days) within which one ID at several dealers counts as suspicious.
    id_multi_dealer_days: int = 30
    #: An unpaid first installment is a default once it fell due this many days before the
    #: servicing snapshot (the latest payment in the data); before that it is not judged.
    fpd_grace_days: int = 15
    #: A ring whose applications all fall within this many days is a burst.
    burst_days: int = 60
    #: A new ring overlapping an earlier run's ring by this Jaccard keeps its ring id.
    stable_id_jaccard: float = 0.5
    score: ScoreWeights = Field(default_factory=ScoreWeights)

    def weight(self, rel: Rel) -> float:
        return self.weights.get(rel, 0.0)

    def damp(self, degree: int) -> float:
        """The hub damping factor for an identifier touching ``degree`` applications."""
        return float((2.0 / max(degree, 2)) ** self.hub_damping_exponent)


class RingConfigError(ValueError):
    """A ring configuration file cannot be read or names unknown parameters."""


def load_config(path: Path | None) -> RingConfig:
    """The defaults, overridden by ``path`` (TOML or JSON) when given.

    Weights in the file are merged into the default weights, so a file may change one
    link kind only.
    """
    if path is None:
        return RingConfig()
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (OSError, ValueError) as exc:
        raise RingConfigError(f"cannot read ring config {path}: {exc}") from exc
    weights = dict(DEFAULT_WEIGHTS)
    for name, value in (data.pop("weights", None) or {}).items():
        try:
            rel = Rel(name)
        except ValueError:
            raise RingConfigError(f"{path}: weights.{name} is not a link kind; expected one "
                                  f"of {', '.join(r.value for r in IDENTIFIER_RELS)}") from None
        weights[rel] = float(value)
    try:
        return RingConfig(weights=weights, **data)
    except ValueError as exc:
        raise RingConfigError(f"{path}: {exc}") from exc
