"""The underwriter and investigator API (FastAPI): the only door to the data."""
