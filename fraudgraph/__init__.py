"""fraudgraph: graph-based anti-fraud investigation platform for auto-loan lending."""

__version__ = "0.1.0"
