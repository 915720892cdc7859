"""Score each candidate ring from evidence an investigator understands, keeping the reasons.

Structure alone does not make a ring fraudulent (a family shares a home, a fleet an
account and a day at one dealer), so most points come from what honest groups rarely
show: known fraud labels, unpaid first installments, payout accounts and VINs re-used
by different people, an employer phone that is somebody's mobile, prices far above the
model's usual one, one ID number at several dealers within days. Structure (shared kinds,
a burst in time, one agent) adds to that. Every point comes with a reason code and text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from graph.schema import Rel
from rings.config import RingConfig
from rings.graphdata import FPD_UNKNOWN, FPD_UNPAID, LINK_RELS, REL_INDEX, IdentityGraph

DAY = 86_400


@dataclass
class Reason:
    code: str
    points: float
    text: str


@dataclass
class RingScore:
    """One ring: its members (application positions), score and reasons."""

    number: int
    members: np.ndarray
    score: float
    reasons: list[Reason]
    features: dict[str, float | int | str] = field(default_factory=dict)

    @property
    def reason_codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    @property
    def reason_texts(self) -> list[str]:
        return [r.text for r in self.reasons]


def shared_identifiers(graph: IdentityGraph, membership: np.ndarray) -> pd.DataFrame:
    """Identifiers linking two or more members of the same ring.

    Columns: ring, ident, apps and persons (distinct members and ID numbers on it), mobile,
    rels (indexes into LINK_RELS), degree.
    """
    links = graph.links
    ring = membership[links.app]
    inside = ring >= 0
    person = _person_of(graph)[links.app[inside]]
    # An application without a known Person counts as its own person.
    person = np.where(person >= 0, person, -1 - links.app[inside])
    frame = pd.DataFrame({"ring": ring[inside], "ident": links.ident[inside],
                          "app": links.app[inside], "rel": links.rel[inside],
                          "mobile": links.mobile[inside], "person": person})
    grouped = frame.groupby(["ring", "ident"], sort=False)
    summary = grouped.agg(apps=("app", "nunique"), persons=("person", "nunique"),
                          mobile=("mobile", "any"),
                          rels=("rel", lambda r: tuple(sorted(set(r)))))
    summary = summary[summary["apps"] >= 2].reset_index()
    summary["degree"] = graph.identifier_degrees()[summary["ident"].to_numpy()]
    return summary


def model_median_prices(graph: IdentityGraph) -> dict[str, float]:
    """The portfolio's median vehicle price per model: the model's usual price."""
    frame = pd.DataFrame({"model": graph.apps.vehicle_model, "price": graph.apps.vehicle_price})
    frame = frame[(frame["model"] != "") & frame["price"].notna()]
    return frame.groupby("model")["price"].median().to_dict()


def score_rings(graph: IdentityGraph, membership: np.ndarray, config: RingConfig,
                hub_links: np.ndarray | None = None) -> list[RingScore]:
    """Score every ring of ``membership`` (ring number per application, -1 for none)."""
    shared = shared_identifiers(graph, membership)
    by_ring = {ring: rows for ring, rows in shared.groupby("ring")}
    medians = model_median_prices(graph)
    persons = _person_of(graph)
    order = np.argsort(membership, kind="stable")
    sorted_m = membership[order]
    out: list[RingScore] = []
    for number in range(int(membership.max()) + 1 if len(membership) else 0):
        lo, hi = np.searchsorted(sorted_m, [number, number + 1])
        members = np.sort(order[lo:hi])
        if len(members) == 0:
            continue
        rows = by_ring.get(number, shared.iloc[0:0])
        hubs = int(hub_links[members].sum()) if hub_links is not None else 0
        out.append(score_ring(graph, number, members, rows, config, medians, persons, hubs))
    return out


def _person_of(graph: IdentityGraph) -> np.ndarray:
    """The Person identifier position of each application (-1 when unknown)."""
    person = np.full(graph.n_apps, -1, dtype=np.int64)
    applicant = graph.links.rel == REL_INDEX[Rel.APPLICANT]
    person[graph.links.app[applicant]] = graph.links.ident[applicant]
    return person


def score_ring(graph: IdentityGraph, number: int, members: np.ndarray, shared: pd.DataFrame,
               config: RingConfig, medians: dict[str, float], persons: np.ndarray,
               hub_links: int = 0) -> RingScore:
    """The score and reasons of one ring."""
    apps, w = graph.apps, config.score
    size = len(members)
    n_persons = len({int(p) if p >= 0 else -1 - int(m) for p, m in zip(persons[members], members,
                                                                        strict=True)})
    times = apps.submitted[members]
    window_days = float(times.max() - times.min()) / DAY
    dealers, agents = apps.dealer[members], apps.agent[members]
    top_agent_share = pd.Series(agents).value_counts().iloc[0] / size
    reasons: list[Reason] = []

    def add(code: str, points: float, text: str) -> None:
        if points:
            reasons.append(Reason(code, round(float(points), 1), text))

    fraud = int((apps.label[members] == "fraud").sum())
    legit = int((apps.label[members] == "legit").sum())
    add("KNOWN_FRAUD", w.fraud_label * fraud / size if fraud else 0,
        f"{fraud} of {size} applications already confirmed fraud")
    fpd = apps.fpd[members]
    due = int((fpd != FPD_UNKNOWN).sum())
    unpaid = int((fpd == FPD_UNPAID).sum())
    add("FIRST_PAYMENT_DEFAULT", w.first_payment_default * unpaid / due if unpaid else 0,
        f"{unpaid} of {due} loans with a due first installment never paid it")
    kinds = _kind_counts(shared)
    account_people = _shared_between_people(shared, Rel.REPAYMENT_ACCOUNT)
    add("PAYOUT_ACCOUNT_REUSED", w.payout_reuse if account_people else 0,
        f"{account_people} repayment account(s) shared by different applicants")
    vins = kinds.get(Rel.FINANCES, 0)
    add("VIN_REUSED", w.vin_reuse if vins else 0, f"{vins} vehicle(s) financed more than once")
    mobile_employer = _employer_mobiles(shared)
    add("EMPLOYER_PHONE_IS_MOBILE", w.employer_mobile if mobile_employer else 0,
        f"{mobile_employer} employer phone(s) shared by members are mobile numbers")
    inflated = _inflated(members, apps.vehicle_model, apps.vehicle_price, medians,
                         config.price_inflation_ratio)
    add("PRICE_ABOVE_MODEL", w.price_inflation * inflated / size if inflated >= 2 else 0,
        f"{inflated} of {size} vehicles priced over {config.price_inflation_ratio:.2f}x "
        f"their model's median")
    multi = _id_multi_dealer(members, persons, dealers, times, config.id_multi_dealer_days)
    add("ID_AT_SEVERAL_DEALERS", w.id_multi_dealer if multi else 0,
        f"one ID number used at {multi} dealers within {config.id_multi_dealer_days} days")
    burst = n_persons >= 3 and window_days <= config.burst_days
    add("TIME_BURST", w.burst if burst else 0,
        f"{n_persons} applicants within {window_days:.0f} days")
    n_kinds = len(kinds)
    add("SHARED_KINDS", w.shared_kinds * max(n_kinds - 1, 0),
        f"{n_kinds} kinds of identifier shared: "
        + ", ".join(f"{k.value} x{v}" for k, v in sorted(kinds.items())))
    add("ONE_AGENT", w.agent_concentration if n_persons >= 3 and top_agent_share >= 0.6 else 0,
        f"one sales agent handled {top_agent_share:.0%} of the applications")
    add("CLEARED_LEGIT", w.legit_label * legit / size if legit else 0,
        f"{legit} of {size} applications reviewed and cleared as legitimate")
    if hub_links:
        reasons.append(Reason("HUB_LINKS", 0.0, f"{hub_links} link(s) to hub identifiers above "
                                                f"{config.hub_cap} applications (weak, kept)"))
    score = float(np.clip(sum(r.points for r in reasons), 0, 100))
    reasons.sort(key=lambda r: -abs(r.points))
    features = {"size": size, "persons": n_persons, "window_days": round(window_days, 1),
                "dealers": len(set(dealers)), "agents": len(set(agents)),
                "shared_kinds": n_kinds, "shared_identifiers": len(shared),
                "density": _density(shared, size), "fraud_labels": fraud,
                "first_payment_defaults": unpaid, "first_installments_due": due,
                "first_seen_at": int(times.min()), "last_seen_at": int(times.max())}
    return RingScore(number, members, round(score, 1), reasons, features)


def _kind_counts(shared: pd.DataFrame) -> dict[Rel, int]:
    counts: dict[Rel, int] = {}
    for rels in shared["rels"]:
        for rel in rels:
            counts[LINK_RELS[rel]] = counts.get(LINK_RELS[rel], 0) + 1
    return counts


def _shared_between_people(shared: pd.DataFrame, rel: Rel) -> int:
    """Identifiers of ``rel`` that members with different ID numbers share."""
    of_rel = shared["rels"].map(lambda r: REL_INDEX[rel] in r)
    return int((of_rel & (shared["persons"] >= 2)).sum())


def _employer_mobiles(shared: pd.DataFrame) -> int:
    employer = REL_INDEX[Rel.EMPLOYER_PHONE]
    return int((shared["mobile"] & shared["rels"].map(lambda r: employer in r)).sum())


def _inflated(members: np.ndarray, models: np.ndarray, prices: np.ndarray,
              medians: dict[str, float], ratio: float) -> int:
    count = 0
    for m in members:
        usual = medians.get(models[m])
        count += bool(usual and prices[m] > usual * ratio)
    return count


def _id_multi_dealer(members: np.ndarray, persons: np.ndarray, dealers: np.ndarray,
                     times: np.ndarray, days: int) -> int:
    """Most dealers one ID number reached within ``days`` (0 when under two)."""
    frame = pd.DataFrame({"p": persons[members], "d": dealers, "t": times})
    frame = frame[frame["p"] >= 0]
    best = 0
    for _, rows in frame.groupby("p"):
        if len(rows) < 2 or (rows["t"].max() - rows["t"].min()) > days * DAY:
            continue
        best = max(best, rows["d"].nunique())
    return best if best >= 2 else 0


def _density(shared: pd.DataFrame, size: int) -> float:
    """Share of member pairs that share at least one identifier (upper bound by links)."""
    pairs = float((shared["apps"] * (shared["apps"] - 1) / 2).sum())
    return round(min(1.0, pairs / (size * (size - 1) / 2)), 3) if size > 1 else 0.0
