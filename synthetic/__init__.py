"""Synthetic loan-origination portfolios with known fraud rings, for testing and evaluation.

``generate_portfolio`` writes a dataset in the input contract's shape plus a ground
truth of which applications belong to which fraud pattern or honest structure;
``measure_generation`` runs it in a fresh process and reports time and peak memory.
"""

from synthetic.portfolio import GenerationSummary, generate_portfolio
from synthetic.timing import GenerationTiming, measure_generation

__all__ = ["GenerationSummary", "GenerationTiming", "generate_portfolio", "measure_generation"]
