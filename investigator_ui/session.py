"""Per-session state and the shared API client, in one place for every page.

Session state is initialised once per browser session (``init_state``); the client is a
``st.cache_resource`` keyed by the base URL, so sessions share one connection pool while
each keeps its own token.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from api.roles import Permission, Role, allowed
from investigator_ui.client import ApiClient, ConsoleError, SignedIn
from investigator_ui.config import API_URL_KEY, api_url
from investigator_ui.i18n import LANG_KEY, t

USER_KEY = "user"
FLASH_KEY = "flash"
APP_ID_KEY = "app_id"
#: The ring the Rings page shows, and its dealer filter: the Dealers page sets both.
RING_KEY = "ring_selected"
RINGS_DEALER_KEY = "rings_dealer"

DEFAULTS: dict[str, Any] = {
    API_URL_KEY: None,  # None: config.default_api_url(), read at first use
    LANG_KEY: "en",
    USER_KEY: None,  # a SignedIn once the token endpoint accepted the credentials
    FLASH_KEY: None,  # (kind, text) shown once after an action done in a callback
    APP_ID_KEY: "",
}


def init_state() -> None:
    """Fill in missing keys only: values a test or an earlier run set are kept."""
    for key, value in DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = value


@st.cache_resource(show_spinner=False)
def _client_for(base_url: str) -> ApiClient:
    return ApiClient(base_url)


def client() -> ApiClient:
    return _client_for(api_url(st.session_state))


def tr(key: str, **values: object) -> str:
    """The text for ``key`` in the session's language."""
    return t(st.session_state, key, **values)


def user() -> SignedIn | None:
    value = st.session_state.get(USER_KEY)
    return value if isinstance(value, SignedIn) else None


def token() -> str:
    signed = user()
    if signed is None:  # pages are only registered for signed-in users
        raise RuntimeError("no user is signed in")
    return signed.token


def can(permission: Permission) -> bool:
    """Whether the signed-in role may do this: the API checks again, this only hides UI."""
    signed = user()
    if signed is None:
        return False
    try:
        role = Role(signed.role)
    except ValueError:  # a role this console does not know gets nothing
        return False
    return allowed(role, permission)


def require(permission: Permission) -> None:
    """Stop the page unless the role may use it: a second check behind the navigation."""
    if not can(permission):
        st.error(tr("not_allowed"))
        st.stop()


def sign_out() -> None:
    for key in (USER_KEY, FLASH_KEY):
        st.session_state[key] = None


def show_error(error: ConsoleError) -> None:
    """Show an API error; a 401 means the token expired, so sign the user out."""
    if error.status == 401 and user() is not None:
        sign_out()
        st.warning(tr("session_expired"))
        return
    st.error(tr("error", title=error.title, status=error.status, detail=error.detail))


def flash(kind: str, text: str) -> None:
    """Keep a message from a callback until the page body shows it."""
    st.session_state[FLASH_KEY] = (kind, text)


def show_flash() -> None:
    message = st.session_state.get(FLASH_KEY)
    if message:
        kind, text = message
        (st.success if kind == "success" else st.error)(text)
        st.session_state[FLASH_KEY] = None
