"""The API's time-limited cache of whole-portfolio figures."""

from __future__ import annotations

from api.cache import TtlCache


def test_a_kept_value_is_computed_once_per_key_until_it_expires() -> None:
    calls: list[str] = []

    def compute(name: str):  # type: ignore[no-untyped-def]
        def run() -> str:
            calls.append(name)
            return name.upper()
        return run

    kept = TtlCache(ttl=3600)
    assert kept("a", compute("a")) == kept("a", compute("a")) == "A"
    assert kept("b", compute("b")) == "B"
    assert calls == ["a", "b"]
    expired = TtlCache(ttl=0)
    expired("a", compute("a"))
    expired("a", compute("a"))
    assert calls == ["a", "b", "a", "a"]


def test_the_oldest_entry_goes_when_full() -> None:
    kept = TtlCache(ttl=3600, max_entries=2)
    for key in ("a", "b", "c"):
        kept(key, lambda k=key: k)
    recomputed: list[str] = []
    kept("a", lambda: recomputed.append("a") or "a")
    kept("c", lambda: recomputed.append("c") or "c")
    assert recomputed == ["a"]
