"""A small HTTP client for the fraudgraph API, the console's only way to the data.

One ``ApiClient`` is shared by every browser session (``st.cache_resource``), so it holds
the connection pool but never a user's token: each call takes the caller's token.
Every failure, whether an API problem document or an unreachable server, becomes a
``ConsoleError`` that the pages show as is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from investigator_ui.config import MODEL_TIMEOUT_S, REQUEST_TIMEOUT_S

#: What an entity can be looked up by: the API's ``LOOKUP_KINDS`` (a test keeps them equal;
#: the console does not import the API's schemas, which pull in the graph schema).
LOOKUP_KINDS = ("id_number", "phone", "device", "ip", "address", "employer", "bank_account",
                "vehicle", "dealer", "sales_agent", "application")


class ConsoleError(Exception):
    """An API call that did not succeed: the problem document's title, detail and status.

    ``status`` is 0 when no HTTP answer came back (server down, timeout).
    """

    def __init__(self, title: str, detail: str, status: int) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.title = title
        self.detail = detail
        self.status = status


@dataclass(frozen=True)
class Download:
    """A file the API sent: what ``st.download_button`` needs."""

    data: bytes
    media_type: str
    filename: str


@dataclass(frozen=True)
class SignedIn:
    """Who is signed in: what the token endpoint returned, plus the name typed."""

    username: str
    role: str
    token: str


class ApiClient:
    """Typed-ish wrappers over the API routes the console uses; JSON in, JSON out."""

    def __init__(self, base_url: str, *, timeout: float = REQUEST_TIMEOUT_S,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    # -- plumbing ---------------------------------------------------------------------

    def _call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        return self._raw(method, path, token, **kwargs).json()

    def _raw(self, method: str, path: str, token: str | None = None,
             **kwargs: Any) -> httpx.Response:
        """The response itself, for files; errors as in ``_call``."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            response = self._http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise ConsoleError("API unreachable",
                               f"{method} {self.base_url}{path}: {exc}", 0) from None
        return self._checked(response)

    @staticmethod
    def _checked(response: httpx.Response) -> httpx.Response:
        if response.is_success:
            return response
        raise _problem(response)

    # -- routes -----------------------------------------------------------------------

    def sign_in(self, username: str, password: str) -> SignedIn:
        """Exchange credentials for a token (OAuth2 password form)."""
        body = self._call("POST", "/v1/auth/token",
                          data={"username": username, "password": password})
        return SignedIn(username=username, role=body["role"], token=body["access_token"])

    def lookup(self, token: str, kind: str, value: str) -> dict[str, Any]:
        """An entity (masked) and its linked applications; POST keeps values out of URLs."""
        return dict(self._call("POST", "/v1/entities/lookup", token,
                               json={"kind": kind, "value": value}))

    def neighbourhood(self, token: str, node: str, hops: int = 1,
                      limit: int = 100) -> dict[str, Any]:
        return dict(self._call("GET", "/v1/graph/neighbourhood", token,
                               params={"node": node, "hops": hops, "limit": limit}))

    def path(self, token: str, source: str, target: str) -> dict[str, Any]:
        return dict(self._call("GET", "/v1/graph/path", token,
                               params={"from": source, "to": target}))

    def reveal(self, token: str, node: str, reason: str) -> dict[str, Any]:
        """The clear value of a personal identifier; the API audits it with the reason."""
        return dict(self._call("POST", "/v1/entities/reveal", token,
                               json={"node": node, "reason": reason}))

    def risk(self, token: str, application_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/applications/{_seg(application_id)}/risk", token))

    def decisions(self, token: str, application_id: str) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/v1/applications/{_seg(application_id)}/decisions",
                               token))

    def transitions(self, token: str, application_id: str) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/v1/applications/{_seg(application_id)}/transitions",
                               token))

    def cases(self, token: str) -> list[dict[str, Any]]:
        """The live review queue, riskiest first, then by SLA deadline."""
        return list(self._call("GET", "/v1/cases", token))

    def case(self, token: str, case_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/cases/{_seg(case_id)}", token))

    def assign(self, token: str, case_id: str, assignee: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/v1/cases/{_seg(case_id)}/assign", token,
                               json={"assignee": assignee}))

    def add_note(self, token: str, case_id: str, text: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/v1/cases/{_seg(case_id)}/notes", token,
                               json={"text": text}))

    def decide(self, token: str, case_id: str, disposition: str,
               reason: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/v1/cases/{_seg(case_id)}/decision", token,
                               json={"disposition": disposition, "reason": reason}))

    def watchlist(self, token: str) -> list[dict[str, Any]]:
        return list(self._call("GET", "/v1/watchlist", token))

    def portfolio(self, token: str) -> dict[str, Any]:
        return dict(self._call("GET", "/v1/portfolio", token))

    def escalate(self, token: str, case_id: str, reason: str) -> dict[str, Any]:
        """Hand the case up to a supervisor, with the reason kept on the case."""
        return dict(self._call("POST", f"/v1/cases/{_seg(case_id)}/escalate", token,
                               json={"reason": reason}))

    def add_to_watchlist(self, token: str, kind: str, value: str,
                         reason: str) -> dict[str, Any]:
        return dict(self._call("POST", "/v1/watchlist", token,
                               json={"kind": kind, "value": value, "reason": reason}))

    # -- rings, dealers, model -------------------------------------------------------

    def rings(self, token: str, **filters: Any) -> dict[str, Any]:
        """One page of rings: ``{items, total, page, size}``; ``None`` filters are left out."""
        params = {k: v for k, v in filters.items() if v is not None and v != ""}
        return dict(self._call("GET", "/v1/rings", token, params=params))

    def ring(self, token: str, ring_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/rings/{_seg(ring_id)}", token))

    def ring_report(self, token: str, ring_id: str, fmt: str) -> Download:
        """A ring's report file as the API sends it (bytes, media type, file name)."""
        response = self._raw("GET", f"/v1/rings/{_seg(ring_id)}/report", token,
                             params={"format": fmt})
        return Download(data=response.content,
                        media_type=response.headers.get("content-type", "")
                        .split(";")[0] or "application/octet-stream",
                        filename=_filename(response) or f"{ring_id}.{fmt}")

    def dealers(self, token: str, page: int = 1, size: int = 50) -> dict[str, Any]:
        return dict(self._call("GET", "/v1/dealers", token,
                               params={"sort": "risk", "page": page, "size": size}))

    def model(self, token: str) -> dict[str, Any]:
        # The API's first model read imports torch (tens of seconds on a busy machine).
        return dict(self._call("GET", "/v1/model", token, timeout=MODEL_TIMEOUT_S))


def _seg(value: str) -> str:
    """One path segment, escaped, so an id typed by a user cannot reach another route."""
    return quote(value, safe="")


def _filename(response: httpx.Response) -> str | None:
    """The attachment's file name from Content-Disposition, without any folder part."""
    header = response.headers.get("content-disposition", "")
    match = re.search(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', header)
    return match.group(1).rsplit("/", 1)[-1] if match else None


def _problem(response: httpx.Response) -> ConsoleError:
    """A ConsoleError from a problem+json body, or from the bare status if there is none."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        return ConsoleError(str(body.get("title") or response.reason_phrase),
                            str(body.get("detail") or ""),
                            int(body.get("status") or response.status_code))
    return ConsoleError(response.reason_phrase or "Error", response.text[:200],
                        response.status_code)
