from __future__ import annotations

import pytest

from graph.privacy import (
    KeyConfigError,
    Pseudonymiser,
    mask_account,
    mask_id_number,
    mask_name,
    mask_phone,
    new_key,
)


def test_tokens_are_stable_per_key_and_separate_kinds() -> None:
    key = new_key()
    a, b = Pseudonymiser(key, new_key()), Pseudonymiser(key, new_key())
    assert a.token("phone", "+8613812345678") == b.token("phone", "+8613812345678")
    assert a.token("phone", "123456789") != a.token("bank_account", "123456789")
    other = Pseudonymiser(new_key(), new_key())
    assert other.token("phone", "+8613812345678") != a.token("phone", "+8613812345678")


def test_encryption_round_trips_and_hides_the_value() -> None:
    pseudo = Pseudonymiser(new_key(), new_key())
    stored = pseudo.encrypt("310101199001011234")
    assert "310101199001011234" not in stored
    assert pseudo.decrypt(stored) == "310101199001011234"
    assert pseudo.encrypt("x") != pseudo.encrypt("x")  # random nonce


def test_masks_follow_the_contract() -> None:
    assert mask_id_number("31010119860106049X") == "3101**********049X"
    assert mask_phone("+8613812345678") == "138****5678"
    assert mask_account("6222465936741903160") == "6222***********3160"
    assert mask_name("孙小红") == "孙**"


@pytest.mark.parametrize("bad", ["", "not-base64!", "c2hvcnQ="])
def test_missing_or_bad_keys_are_refused_clearly(bad: str) -> None:
    with pytest.raises(KeyConfigError, match="FRAUDGRAPH_HASH_KEY"):
        Pseudonymiser(bad, new_key())
