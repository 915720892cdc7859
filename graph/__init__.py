"""The fraud graph: its schema (declared once), normalisers, privacy and the query runner."""
