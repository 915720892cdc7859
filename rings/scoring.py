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

#: Ring scores run from 0 to this; the rest of the platform reads them as a share of it.
SCORE_MAX = 100.0


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
    """Identifiers linking two or more members of the same ring, one row per (ring,
    identifier, relationship type).

    Columns: ring, ident, rel (index into LINK_RELS), apps and persons (distinct members
    and ID numbers on the identifier), mobile, employer (reached as an employer phone),
    personal (reached as an applicant's or contact's phone), degree.
    """
    links = graph.links
    ring = membership[links.app]
    inside = ring >= 0
    rel = links.rel[inside]
    frame = pd.DataFrame({"ring": ring[inside], "ident": links.ident[inside],
                          "app": links.app[inside], "rel": rel,
                          "mobile": links.mobile[inside],
                          "person": graph.persons()[links.app[inside]],
                          "employer": rel == REL_INDEX[Rel.EMPLOYER_PHONE],
                          "personal": np.isin(rel, [REL_INDEX[Rel.APPLICANT_PHONE],
                                                    REL_INDEX[Rel.CONTACT_PHONE]])})
    per_ident = frame.groupby(["ring", "ident"], sort=False).agg(
        apps=("app", "nunique"), persons=("person", "nunique"), mobile=("mobile", "any"),
        employer=("employer", "any"), personal=("personal", "any"))
    per_ident = per_ident[per_ident["apps"] >= 2]
    rels = frame[["ring", "ident", "rel"]].drop_duplicates()
    shared = rels.merge(per_ident.reset_index(), on=["ring", "ident"], how="inner")
    shared["degree"] = graph.identifier_degrees()[shared["ident"].to_numpy()]
    return shared


def model_median_prices(graph: IdentityGraph) -> dict[str, float]:
    """The portfolio's median vehicle price per model: the model's usual price."""
    if graph.model_medians is not None:
        return graph.model_medians
    frame = pd.DataFrame({"model": graph.apps.vehicle_model, "price": graph.apps.vehicle_price})
    frame = frame[(frame["model"] != "") & frame["price"].notna()]
    return frame.groupby("model")["price"].median().to_dict()


def ring_features(graph: IdentityGraph, membership: np.ndarray,
                  config: RingConfig) -> pd.DataFrame:
    """One row of evidence per ring number, computed for all rings at once."""
    apps = graph.apps
    idx = np.flatnonzero(membership >= 0)
    medians = model_median_prices(graph)
    usual = pd.Series(apps.vehicle_model[idx]).map(medians).to_numpy(dtype=np.float64)
    m = pd.DataFrame({
        "ring": membership[idx], "app": idx, "person": graph.persons()[idx],
        "dealer": apps.dealer[idx], "agent": apps.agent[idx], "t": apps.submitted[idx],
        "fraud": apps.label[idx] == "fraud", "legit": apps.label[idx] == "legit",
        "due": apps.fpd[idx] != FPD_UNKNOWN, "unpaid": apps.fpd[idx] == FPD_UNPAID,
        "inflated": apps.vehicle_price[idx] > usual * config.price_inflation_ratio,
        "straw": graph.loan_to_price()[idx] >= config.straw_loan_to_price})
    g = m.groupby("ring")
    f = g.agg(size=("app", "size"), persons=("person", "nunique"), t_min=("t", "min"),
              t_max=("t", "max"), dealers=("dealer", "nunique"), agents=("agent", "nunique"),
              fraud=("fraud", "sum"), legit=("legit", "sum"), due=("due", "sum"),
              unpaid=("unpaid", "sum"), inflated=("inflated", "sum"),
              straw=("straw", "sum"))
    f["top_agent"] = m.groupby(["ring", "agent"]).size().groupby(level=0).max()
    per_person = m.groupby(["ring", "person"]).agg(n=("app", "size"), lo=("t", "min"),
                                                   hi=("t", "max"), d=("dealer", "nunique"))
    burst_ids = per_person[(per_person["n"] >= 2)
                           & (per_person["hi"] - per_person["lo"] <= config.id_multi_dealer_days
                              * DAY)]
    f["id_dealers"] = burst_ids["d"].groupby(level=0).max()
    shared = shared_identifiers(graph, membership)
    s = shared.groupby("ring")
    f["kinds"] = s["rel"].nunique()
    f["shared_idents"] = s["ident"].nunique()
    first = shared.drop_duplicates(["ring", "ident"])
    f["pairs"] = (first["apps"] * (first["apps"] - 1) / 2).groupby(first["ring"]).sum()
    acc = shared[(shared["rel"] == REL_INDEX[Rel.REPAYMENT_ACCOUNT]) & (shared["persons"] >= 2)]
    f["payout_reuse"] = acc.groupby("ring").size()
    f["vin_reuse"] = shared[shared["rel"] == REL_INDEX[Rel.FINANCES]].groupby("ring").size()
    # An employer phone that is a mobile and also somebody's own or contact phone, or that
    # several people give as their employer's.
    emp = first[first["mobile"] & first["employer"]
                & (first["personal"] | (first["persons"] >= 4))]
    f["employer_mobile"] = emp.groupby("ring").size()
    kind_counts = shared.groupby(["ring", "rel"]).size()
    kind_text: dict[int, list[str]] = {}
    for (ring, rel), count in zip(kind_counts.index, kind_counts.to_numpy(), strict=True):
        kind_text.setdefault(ring, []).append(f"{LINK_RELS[rel].value} x{count}")
    f["kind_list"] = pd.Series({ring: ", ".join(t) for ring, t in kind_text.items()},
                               dtype=object)
    return f.fillna({c: 0 for c in ("id_dealers", "kinds", "shared_idents", "pairs",
                                     "payout_reuse", "vin_reuse", "employer_mobile")}
                    ).fillna({"kind_list": ""})


def score_rings(graph: IdentityGraph, membership: np.ndarray, config: RingConfig,
                hub_links: np.ndarray | None = None) -> list[RingScore]:
    """Score every ring of ``membership`` (ring number per application, -1 for none)."""
    if len(membership) == 0 or membership.max() < 0:
        return []
    features = ring_features(graph, membership, config)
    order = np.argsort(membership, kind="stable")
    bounds = np.searchsorted(membership[order], np.arange(int(membership.max()) + 2))
    out = []
    for number, row in zip(features.index, features.itertuples(), strict=True):
        members = np.sort(order[bounds[number]:bounds[number + 1]])
        hubs = int(hub_links[members].sum()) if hub_links is not None else 0
        out.append(score_ring(int(number), members, row, config, hubs))
    return out


def score_ring(number: int, members: np.ndarray, f: object, config: RingConfig,
               hub_links: int = 0) -> RingScore:
    """The score and reasons of one ring from its row of ``ring_features``."""
    w = config.score
    size, persons = int(f.size), int(f.persons)  # type: ignore[attr-defined]
    window_days = float(f.t_max - f.t_min) / DAY  # type: ignore[attr-defined]
    v = {k: int(getattr(f, k)) for k in ("fraud", "legit", "due", "unpaid", "inflated", "straw",
                                          "payout_reuse", "vin_reuse", "employer_mobile",
                                          "id_dealers", "kinds", "top_agent")}
    reasons: list[Reason] = []

    def add(code: str, points: float, text: str) -> None:
        if points:
            reasons.append(Reason(code, round(float(points), 1), text))

    add("KNOWN_FRAUD", w.fraud_label * v["fraud"] / size,
        f"{v['fraud']} of {size} applications already confirmed fraud")
    # Shrunk towards zero: one unpaid first installment in a group of two proves little.
    add("FIRST_PAYMENT_DEFAULT",
        w.first_payment_default * v["unpaid"] / (v["due"] + 2) if v["unpaid"] >= 2 else 0,
        f"{v['unpaid']} of {v['due']} loans with a due first installment never paid it")
    add("PAYOUT_ACCOUNT_REUSED", w.payout_reuse if v["payout_reuse"] else 0,
        f"{v['payout_reuse']} repayment account(s) shared by different applicants")
    add("VIN_REUSED", w.vin_reuse if v["vin_reuse"] else 0,
        f"{v['vin_reuse']} vehicle(s) financed more than once")
    add("EMPLOYER_PHONE_IS_MOBILE", w.employer_mobile if v["employer_mobile"] else 0,
        f"{v['employer_mobile']} employer phone(s) that are somebody's mobile")
    add("PRICE_ABOVE_MODEL", w.price_inflation * v["inflated"] / size if v["inflated"] >= 2
        else 0, f"{v['inflated']} of {size} vehicles priced over "
        f"{config.price_inflation_ratio:.2f}x their model's median")
    # A straw borrower puts (almost) nothing down; one such loan in a group is ordinary.
    add("MINIMAL_DOWN_PAYMENT", w.minimal_down_payment * v["straw"] / size
        if v["straw"] >= 2 and v["straw"] * 2 >= size else 0,
        f"{v['straw']} of {size} loans finance {config.straw_loan_to_price:.0%} or more of "
        f"the vehicle's price")
    # Shopping around at two dealers is ordinary; three or more within days is not.
    add("ID_AT_SEVERAL_DEALERS", w.id_multi_dealer if v["id_dealers"] >= 3 else 0,
        f"one ID number used at {v['id_dealers']} dealers within "
        f"{config.id_multi_dealer_days} days")
    burst = persons >= 3 and window_days <= config.burst_days
    add("TIME_BURST", w.burst if burst else 0, f"{persons} applicants within "
        f"{window_days:.0f} days")
    add("SHARED_KINDS", w.shared_kinds * max(v["kinds"] - 2, 0),
        f"{v['kinds']} kinds of identifier shared: {f.kind_list}")  # type: ignore[attr-defined]
    top_share = v["top_agent"] / size
    add("ONE_AGENT", w.agent_concentration if persons >= 3 and top_share >= 0.6 else 0,
        f"one sales agent handled {top_share:.0%} of the applications")
    add("CLEARED_LEGIT", w.legit_label * v["legit"] / size,
        f"{v['legit']} of {size} applications reviewed and cleared as legitimate")
    reasons.sort(key=lambda r: -abs(r.points))
    if hub_links:
        reasons.append(Reason("HUB_LINKS", 0.0, f"{hub_links} link(s) to hub identifiers above "
                                                f"{config.hub_cap} applications (weak, kept)"))
    score = float(np.clip(sum(r.points for r in reasons), 0, SCORE_MAX))
    pairs = size * (size - 1) / 2
    features = {"size": size, "persons": persons, "window_days": round(window_days, 1),
                "dealers": int(f.dealers), "agents": int(f.agents),  # type: ignore[attr-defined]
                "shared_kinds": v["kinds"],
                "shared_identifiers": int(f.shared_idents),  # type: ignore[attr-defined]
                "density": round(min(1.0, float(f.pairs) / pairs), 3),  # type: ignore
                "fraud_labels": v["fraud"], "first_payment_defaults": v["unpaid"],
                "first_installments_due": v["due"],
                "first_seen_at": int(f.t_min), "last_seen_at": int(f.t_max)}  # type: ignore
    return RingScore(number, members, round(score, 1), reasons, features)
