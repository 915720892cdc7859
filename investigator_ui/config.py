"""Where the console finds the API: decided in this one place.

The base URL comes from ``Settings.console_api_url`` (env ``FRAUDGRAPH_API_URL``) when the
settings have that field, else the default below; a session may carry its own value under
``API_URL_KEY`` (the tests point it at their server). It is deliberately *not* taken from
the query string: a crafted link could otherwise make the console send a user's password
and token to another host.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from fraudgraph.settings import get_settings

DEFAULT_API_URL = "http://127.0.0.1:8000"
#: Session-state key holding the API base URL.
API_URL_KEY = "api_url"
#: Seconds before an API call is given up; the UI shows the error instead of hanging.
REQUEST_TIMEOUT_S = 15.0
#: The model overview may wait for the API to import torch on its first read.
MODEL_TIMEOUT_S = 90.0


def default_api_url() -> str:
    """The configured API URL; ``getattr`` keeps this working on settings without it."""
    return str(getattr(get_settings(), "console_api_url", None) or DEFAULT_API_URL)


def api_url(state: MutableMapping[str, Any]) -> str:
    """The API base URL for this session, without a trailing slash."""
    return str(state.get(API_URL_KEY) or default_api_url()).rstrip("/")
