"""Agent bridges between straw-like fragments, on hand-made graphs."""

from __future__ import annotations

import numpy as np
import pytest

from graph.schema import Rel
from rings.communities import find_groups
from rings.config import RingConfig
from rings.graphdata import IdentityGraph
from rings.projection import project
from rings.scoring import score_rings
from tests.rings.helpers import DAY, graph, own_identities
from tests.rings.test_communities import groups_of

CONFIG = RingConfig()
START = 1_700_000_000


def two_fragments(agents: tuple[str, str] = ("SA9", "SA9"), loan: float = 100_800.0,
                  days_apart: int = 10, same_person: bool = False) -> IdentityGraph:
    """APP0-1 share a payout account, APP2-3 another: two fragments of two people each,
    financing 84% of a 120,000 car (``loan``), booked by ``agents``."""
    triples = own_identities(4)
    if same_person:  # APP0-1 are one person applying twice
        triples[1] = (1, triples[0][1], Rel.APPLICANT)
    triples += [(0, 100, Rel.REPAYMENT_ACCOUNT), (1, 100, Rel.REPAYMENT_ACCOUNT),
                (2, 101, Rel.REPAYMENT_ACCOUNT), (3, 101, Rel.REPAYMENT_ACCOUNT)]
    submitted = [START, START + DAY, START + days_apart * DAY, START + (days_apart + 1) * DAY]
    return graph(4, triples, agent=[agents[0]] * 2 + [agents[1]] * 2,
                 loan_amount=[loan] * 4, submitted=submitted)


def rings_of(identity: IdentityGraph, config: RingConfig = CONFIG) -> list[list[int]]:
    return groups_of(find_groups(project(identity, config), config, identity))


def test_straw_fragments_of_one_agent_within_weeks_become_one_ring() -> None:
    identity = two_fragments()
    assert rings_of(identity) == [[0, 1, 2, 3]]
    # Without the identity graph (or with bridges off) the pairs are below a ring's size.
    assert groups_of(find_groups(project(identity, CONFIG), CONFIG)) == []
    assert rings_of(identity, CONFIG.model_copy(update={"agent_bridge_days": 0})) == []


@pytest.mark.parametrize("identity", [
    two_fragments(loan=84_000.0),  # 70% financed: ordinary down payments (fleets, families)
    two_fragments(agents=("SA9", "SA8")),  # two agents
    two_fragments(days_apart=200),  # months apart
    two_fragments(same_person=True),  # one fragment is a repeat customer
], ids=["ordinary-down-payments", "two-agents", "months-apart", "one-person"])
def test_fragments_are_not_bridged_without_every_mark(identity: IdentityGraph) -> None:
    assert rings_of(identity) == []


def test_applications_in_no_fragment_are_never_pulled_in() -> None:
    # APP4: the same agent, the same days, a minimal down payment, but nothing shared.
    triples = own_identities(5) + [(0, 100, Rel.REPAYMENT_ACCOUNT),
                                   (1, 100, Rel.REPAYMENT_ACCOUNT),
                                   (2, 101, Rel.REPAYMENT_ACCOUNT),
                                   (3, 101, Rel.REPAYMENT_ACCOUNT)]
    identity = graph(5, triples, agent=["SA9"] * 5, loan_amount=[100_800.0] * 5,
                     submitted=[START + d * DAY for d in (0, 1, 10, 11, 5)])
    assert rings_of(identity) == [[0, 1, 2, 3]]


def test_minimal_down_payments_are_a_reason_with_points() -> None:
    straw, ordinary = two_fragments(), two_fragments(loan=84_000.0)
    membership = np.zeros(4, dtype=np.int64)  # score each as one group of four
    [ring] = score_rings(straw, membership, CONFIG)
    [plain] = score_rings(ordinary, membership, CONFIG)
    reason = {r.code: r for r in ring.reasons}["MINIMAL_DOWN_PAYMENT"]
    assert reason.points == CONFIG.score.minimal_down_payment
    assert "4 of 4 loans finance 82% or more" in reason.text
    assert "MINIMAL_DOWN_PAYMENT" not in plain.reason_codes
    assert ring.score == pytest.approx(plain.score + reason.points)
