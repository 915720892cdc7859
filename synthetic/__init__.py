"""Synthetic loan-origination portfolios with known fraud rings, for testing and evaluation.

``generate_portfolio`` writes a dataset in the input contract's shape plus a ground
truth of which applications belong to which fraud pattern or honest structure.
"""

from synthetic.portfolio import GenerationSummary, generate_portfolio

__all__ = ["GenerationSummary", "generate_portfolio"]
