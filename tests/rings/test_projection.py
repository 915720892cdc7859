"""The weighted application projection on hand-made graphs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from graph.schema import Rel
from rings.config import RingConfig
from rings.projection import pair_weight, project
from tests.rings.helpers import graph


def edges(projection) -> dict[tuple[int, int], float]:  # type: ignore[no-untyped-def]
    return {(int(a), int(b)): float(w) for a, b, w in
            zip(projection.src, projection.dst, projection.weight, strict=True)}


def test_a_shared_device_links_with_its_configured_weight() -> None:
    g = graph(3, [(0, 0, Rel.SUBMITTED_FROM_DEVICE), (1, 0, Rel.SUBMITTED_FROM_DEVICE),
                  (2, 1, Rel.SUBMITTED_FROM_DEVICE)])
    config = RingConfig()
    assert edges(project(g, config)) == pytest.approx({(0, 1): 1.0})


def test_hubs_are_damped_by_degree_not_dropped() -> None:
    # A device on 3 applications vs an IP on 50: both give pairs, the hub far weaker.
    triples = [(a, 0, Rel.SUBMITTED_FROM_DEVICE) for a in range(3)]
    triples += [(a, 1, Rel.SUBMITTED_FROM_IP) for a in range(3, 53)]
    config = RingConfig(hub_damping_exponent=0.5)
    found = edges(project(graph(53, triples), config))
    assert found[(0, 1)] == pytest.approx(1.0 * (2 / 3) ** 0.5)
    assert found[(3, 4)] == pytest.approx(0.45 * (2 / 50) ** 0.5)
    assert len(found) == 3 + 50 * 49 // 2


def test_identifiers_above_the_cap_add_weight_but_create_no_pair() -> None:
    config = RingConfig(hub_cap=10, hub_damping_exponent=0.5)
    triples = [(a, 0, Rel.SUBMITTED_FROM_IP) for a in range(20)]  # hub of 20
    triples += [(0, 1, Rel.REPAYMENT_ACCOUNT), (1, 1, Rel.REPAYMENT_ACCOUNT)]
    projection = project(graph(20, triples), config)
    hub_part = 0.45 * (2 / 20) ** 0.5
    assert edges(projection) == pytest.approx({(0, 1): 1.0 + hub_part})
    assert projection.hubs_skipped == 1
    assert projection.hub_links.tolist() == [1] * 20


def test_weights_come_from_the_config() -> None:
    g = graph(2, [(0, 0, Rel.HOME_ADDRESS), (1, 0, Rel.HOME_ADDRESS)])
    config = RingConfig(weights={**RingConfig().weights, Rel.HOME_ADDRESS: 0.2})
    assert edges(project(g, config)) == pytest.approx({(0, 1): 0.2})


def test_roles_matter_an_employer_phone_that_is_a_mobile_is_strong() -> None:
    # App 0 gives phone 0 as its own mobile; app 1 gives it as its employer's phone.
    triples = [(0, 0, Rel.APPLICANT_PHONE), (1, 0, Rel.EMPLOYER_PHONE),
               (2, 1, Rel.EMPLOYER_PHONE), (3, 1, Rel.EMPLOYER_PHONE)]  # a landline
    found = edges(project(graph(4, triples, mobiles={0}), RingConfig()))
    assert found[(0, 1)] == pytest.approx(1.0)
    assert found[(2, 3)] == pytest.approx(0.3)


def test_pair_weight_is_the_batch_formula() -> None:
    config = RingConfig(hub_damping_exponent=0.5)
    triples = [(a, 0, Rel.CONTACT_PHONE) for a in range(4)] + [(0, 1, Rel.APPLICANT_PHONE)]
    triples[0] = (0, 0, Rel.APPLICANT_PHONE)
    found = edges(project(graph(4, triples), config))
    assert found[(0, 1)] == pytest.approx(pair_weight(1.0, 0.6, 4, config))
    assert found[(0, 1)] == pytest.approx(math.sqrt(0.6) * (2 / 4) ** 0.5)
    assert np.all(project(graph(4, triples), config).src < project(graph(4, triples),
                                                                   config).dst)
