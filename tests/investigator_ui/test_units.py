"""The console's pieces that need no server: error mapping, texts, kinds, DOT output."""

from __future__ import annotations

import httpx
import pytest

from api.schemas import LOOKUP_KINDS
from investigator_ui import graph_view
from investigator_ui.client import LOOKUP_KINDS as CONSOLE_KINDS
from investigator_ui.client import ApiClient, ConsoleError
from investigator_ui.i18n import TEXTS


def _client(handler: httpx.MockTransport) -> ApiClient:
    return ApiClient("http://api.test", transport=handler)


def test_a_problem_document_becomes_a_console_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer tok"
        return httpx.Response(403, json={"title": "Forbidden", "status": 403,
                                         "detail": "role 'analyst' may not work_cases"},
                              headers={"content-type": "application/problem+json"})

    with pytest.raises(ConsoleError) as caught:
        _client(httpx.MockTransport(handler)).cases("tok")
    assert (caught.value.title, caught.value.status) == ("Forbidden", 403)
    assert "work_cases" in caught.value.detail


def test_an_unreachable_api_is_status_0_and_a_bare_error_keeps_its_status() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(ConsoleError) as caught:
        _client(httpx.MockTransport(down)).portfolio("tok")
    assert caught.value.status == 0 and "refused" in caught.value.detail

    with pytest.raises(ConsoleError) as bare:
        _client(httpx.MockTransport(lambda r: httpx.Response(502, text="bad gateway"))
                ).portfolio("tok")
    assert bare.value.status == 502 and bare.value.detail == "bad gateway"


def test_ids_typed_by_users_stay_one_path_segment() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(200, json={})

    _client(httpx.MockTransport(handler)).risk("tok", "../../cases")
    assert seen == ["/v1/applications/..%2F..%2Fcases/risk"]


def test_both_languages_have_the_same_texts() -> None:
    assert set(TEXTS["en"]) == set(TEXTS["zh"])
    assert all(TEXTS["zh"][k] != TEXTS["en"][k] for k in ("sign_in", "page_queue", "tier"))


def test_search_offers_exactly_the_api_lookup_kinds() -> None:
    assert set(CONSOLE_KINDS) == set(LOOKUP_KINDS)
    assert all(f"kind_{kind}" in TEXTS["en"] for kind in LOOKUP_KINDS)


def test_dot_quotes_captions_and_merge_keeps_links_once() -> None:
    graph = graph_view.empty("A:1")
    view = {"nodes": [{"id": "A:1", "label": "A", "caption": 'x"y', "props": {}},
                      {"id": "B:2", "label": "B", "caption": "b", "props": {}}],
            "edges": [{"source": "A:1", "target": "B:2", "type": "USES"}]}
    graph_view.merge(graph, view)
    graph_view.merge(graph, view)
    assert len(graph["nodes"]) == 2 and len(graph["edges"]) == 1
    dot = graph_view.to_dot(graph)
    assert 'x\\"y' in dot and '"A:1" -- "B:2"' in dot


def test_the_api_url_comes_from_settings_unless_the_session_has_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from fraudgraph.settings import Settings, get_settings
    from investigator_ui.config import api_url

    if "console_api_url" not in Settings.model_fields:
        pytest.skip("Settings has no console_api_url yet")
    monkeypatch.setenv("FRAUDGRAPH_API_URL", "http://api.example:9000/")
    get_settings.cache_clear()
    try:
        assert api_url({}) == "http://api.example:9000"
        assert api_url({"api_url": "http://127.0.0.1:1234"}) == "http://127.0.0.1:1234"
    finally:
        get_settings.cache_clear()
