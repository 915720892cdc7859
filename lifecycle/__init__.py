"""The loan lifecycle: decisions at origination, review cases, servicing and collection."""
