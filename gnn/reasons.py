"""Reason codes and texts a reviewer reads, shared by the GNN's and the baselines'
explanations: the application's own features in words."""

from __future__ import annotations

MAX_REASONS = 4

_PHRASES = {
    "log_loan": "loan amount", "log_price": "vehicle price", "log_down": "down payment",
    "log_income": "declared monthly income", "loan_to_value": "loan-to-value",
    "down_share": "down-payment share", "instalment_to_income": "instalment-to-income",
    "term": "term", "log_price_vs_model": "price against the model's usual price",
    "price_missing": "vehicle price missing", "income_missing": "declared income missing",
    "night_submission": "submitted at night",
}


def feature_reason(name: str, value: float) -> tuple[str, str]:
    """Reason code and text for one own feature (``value`` is its standardised value)."""
    flag = name.startswith(("product_", "has_")) or name in (
        "price_missing", "income_missing", "night_submission")
    if flag:
        state = "YES" if value > 0 else "NO"
        if name.startswith("product_"):
            phrase = f"product {name.removeprefix('product_')}"
        elif name.startswith("has_"):
            phrase = f"{name.removeprefix('has_').replace('_', ' ')} given"
        else:
            phrase = _PHRASES[name]
        return f"APP_{name.upper()}_{state}", phrase if value > 0 else f"not: {phrase}"
    state = "HIGH" if value > 0 else "LOW"
    return f"APP_{name.upper()}_{state}", f"{_PHRASES.get(name, name)} is {state.lower()}"
