"""The API's routes, one module per resource; each route validates and calls the domain."""
