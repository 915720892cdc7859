"""Loading a data-contract export folder into the fraud graph."""
