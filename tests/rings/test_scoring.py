"""Ring scores and reasons from hand-made evidence."""

from __future__ import annotations

import numpy as np

from graph.schema import Rel
from rings.config import RingConfig
from rings.graphdata import FPD_PAID, FPD_UNPAID
from rings.scoring import score_rings
from tests.rings.helpers import DAY, graph, own_identities


def one_ring(n: int) -> np.ndarray:
    return np.zeros(n, dtype=np.int64)


def test_a_fraud_like_ring_scores_high_with_its_reasons() -> None:
    n = 5
    triples = own_identities(n)
    triples += [(a, 0, Rel.REPAYMENT_ACCOUNT) for a in (0, 1, 2)]
    triples += [(a, 1, Rel.SUBMITTED_FROM_DEVICE) for a in (2, 3, 4)]
    triples += [(a, 2, Rel.FINANCES) for a in (3, 4)]
    g = graph(n, triples, label=["fraud", "fraud", "", "", ""],
              fpd=[FPD_UNPAID, FPD_UNPAID, FPD_UNPAID, FPD_PAID, FPD_UNPAID],
              agent=["SA1"] * n, vehicle_price=[200_000.0] * 3 + [100_000.0] * 2,
              vehicle_model=["M"] * 3 + ["M"] * 2)
    [ring] = score_rings(g, one_ring(n), RingConfig())
    codes = set(ring.reason_codes)
    assert {"KNOWN_FRAUD", "FIRST_PAYMENT_DEFAULT", "PAYOUT_ACCOUNT_REUSED", "VIN_REUSED",
            "TIME_BURST", "ONE_AGENT", "SHARED_KINDS"} <= codes
    assert ring.score > RingConfig().alert_threshold
    assert ring.features["persons"] == n and ring.features["shared_kinds"] == 3
    assert any("2 of 5 applications already confirmed fraud" in t for t in ring.reason_texts)


def test_a_family_sharing_a_home_over_years_scores_low() -> None:
    n = 4
    triples = own_identities(n) + [(a, 0, Rel.HOME_ADDRESS) for a in range(n)]
    triples += [(a, 1, Rel.SUBMITTED_FROM_IP) for a in range(n)]
    g = graph(n, triples, submitted=[1_600_000_000 + i * 200 * DAY for i in range(n)],
              fpd=[FPD_PAID] * n)
    [ring] = score_rings(g, one_ring(n), RingConfig())
    assert ring.score < 10
    assert "TIME_BURST" not in ring.reason_codes


def test_one_id_at_three_dealers_within_days_is_a_reason_two_is_not() -> None:
    n = 3
    triples = [(a, 0, Rel.APPLICANT) for a in range(n)]
    three = graph(n, triples, dealer=["D1", "D2", "D3"])
    two = graph(n, triples, dealer=["D1", "D2", "D2"])
    codes = score_rings(three, one_ring(n), RingConfig())[0].reason_codes
    assert "ID_AT_SEVERAL_DEALERS" in codes
    codes = score_rings(two, one_ring(n), RingConfig())[0].reason_codes
    assert "ID_AT_SEVERAL_DEALERS" not in codes


def test_an_employer_phone_that_is_a_members_mobile_is_a_reason() -> None:
    n = 3
    triples = own_identities(n) + [(0, 0, Rel.APPLICANT_PHONE), (1, 0, Rel.EMPLOYER_PHONE),
                                   (2, 0, Rel.EMPLOYER_PHONE)]
    mobile = graph(n, triples, mobiles={0})
    landline = graph(n, triples)
    assert "EMPLOYER_PHONE_IS_MOBILE" in score_rings(mobile, one_ring(n),
                                                     RingConfig())[0].reason_codes
    assert "EMPLOYER_PHONE_IS_MOBILE" not in score_rings(landline, one_ring(n),
                                                         RingConfig())[0].reason_codes


def test_cleared_members_lower_the_score_and_weights_are_configurable() -> None:
    n = 3
    triples = own_identities(n) + [(a, 0, Rel.REPAYMENT_ACCOUNT) for a in range(n)]
    plain = score_rings(graph(n, triples), one_ring(n), RingConfig())[0].score
    cleared = score_rings(graph(n, triples, label=["legit"] * n), one_ring(n),
                          RingConfig())[0].score
    assert cleared < plain
    config = RingConfig()
    config.score.payout_reuse = 0.0
    assert score_rings(graph(n, triples), one_ring(n), config)[0].score == plain - 10.0
