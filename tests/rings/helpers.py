"""Hand-made identity graphs for the pure ring functions."""

from __future__ import annotations

from graph.schema import Rel
from rings.graphdata import FPD_UNKNOWN, Applications, IdentityGraph, Links

DAY = 86_400


def apps(n: int, **columns: list) -> Applications:
    """``n`` applications APP0..APPn-1, a day apart, at dealer D1; ``columns`` override."""
    rows = [{"ids": f"APP{i}", "submitted": 1_700_000_000 + i * DAY, "dealer": "D1",
             "agent": f"SA{i}", "loan_amount": 90_000.0, "vehicle_price": 120_000.0,
             "vehicle_model": "M", "label": "", "fpd": FPD_UNKNOWN} for i in range(n)]
    for name, values in columns.items():
        for row, value in zip(rows, values, strict=True):
            row[name] = value
    return Applications.from_rows(rows)


def graph(n_apps: int, triples: list[tuple[int, int, Rel]], mobiles: set[int] | None = None,
          **columns: list) -> IdentityGraph:
    """A graph of ``n_apps`` applications linked by (app, identifier, rel) triples."""
    n_identifiers = max((t[1] for t in triples), default=-1) + 1
    return IdentityGraph(apps(n_apps, **columns), Links.from_triples(triples, mobiles),
                         n_identifiers)


def own_identities(n_apps: int, first_ident: int = 10_000) -> list[tuple[int, int, Rel]]:
    """Each application's own Person (no sharing), so persons are told apart."""
    return [(a, first_ident + a, Rel.APPLICANT) for a in range(n_apps)]
