"""The console's pieces that need no server: error mapping, texts, kinds, DOT output."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.schemas import LOOKUP_KINDS
from investigator_ui import graph_view, ring_panel, tables
from investigator_ui.case_actions import OUTCOMES
from investigator_ui.client import LOOKUP_KINDS as CONSOLE_KINDS
from investigator_ui.client import ApiClient, ConsoleError
from investigator_ui.i18n import TEXTS
from investigator_ui.reports import REPORT_FORMATS


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


def _view() -> dict[str, Any]:
    return {"nodes": [{"id": "Application:A1", "label": "Application", "caption": "A1",
                       "props": {"tier": "C"}},
                      {"id": "Application:A2", "label": "Application", "caption": "A2",
                       "props": {"tier": "B"}},
                      {"id": "Device:d", "label": "Device", "caption": "d", "props": {}},
                      {"id": "Ring:R1@run", "label": "Ring", "caption": "R1",
                       "props": {"ring_id": "R1", "score": 43.2}}],
            "edges": [{"source": "Application:A1", "target": "Device:d",
                       "type": "SUBMITTED_FROM_DEVICE"},
                      {"source": "Application:A2", "target": "Device:d",
                       "type": "SUBMITTED_FROM_DEVICE"},
                      {"source": "Application:A1", "target": "Ring:R1@run",
                       "type": "MEMBER_OF"},
                      {"source": "Application:A1", "target": "Phone:gone",
                       "type": "APPLICANT_PHONE"}]}


def test_merge_keeps_nodes_and_links_once() -> None:
    graph = graph_view.empty("Application:A1")
    graph_view.merge(graph, _view())
    graph_view.merge(graph, _view())
    assert len(graph["nodes"]) == 4 and len(graph["edges"]) == 4


def test_elements_style_kind_risk_ring_and_path() -> None:
    graph = graph_view.merge(graph_view.empty("Application:A1"), _view())
    graph["path"] = ["Application:A2", "Device:d"]
    out = graph_view.elements(graph)
    nodes = {n["data"]["id"]: n["data"] for n in out["nodes"]}
    assert {n: d["risk"] for n, d in nodes.items()} == {
        "Application:A1": "high", "Application:A2": "medium", "Device:d": "low",
        "Ring:R1@run": "medium"}  # 43.2 is under the alert threshold of 50
    assert {n for n, d in nodes.items() if d["ring"] == "yes"} == {"Application:A1",
                                                                    "Ring:R1@run"}
    assert nodes["Application:A1"]["root"] == "yes" and nodes["Device:d"]["label"] == "Device"
    # A link to a node not drawn would break Cytoscape: left out.
    assert {e["data"]["target"] for e in out["edges"]} == {"Device:d", "Ring:R1@run"}
    assert [e["data"]["source"] for e in out["edges"] if e["data"]["path"] == "yes"] == [
        "Application:A2"]
    assert len({e["data"]["id"] for e in out["edges"]}) == 3
    # Every label of the schema that the graph can show has a style.
    selectors = {s.dump()["selector"] for s in graph_view.styles()}
    assert {f"node[label='{label}']" for label in graph_view.KIND_STYLES} <= selectors


def test_a_ring_listed_by_the_ring_page_is_highlighted_without_ring_nodes() -> None:
    graph = graph_view.empty("Ring:R1", ring_members=["Application:A2"])
    graph_view.merge(graph, {"nodes": _view()["nodes"][1:3], "edges": []})
    assert graph_view.ring_ids(graph) == {"Application:A2"}


def test_component_events_name_the_clicked_nodes() -> None:
    click = {"action": graph_view.CLICK, "timestamp": 1,
             "data": {"type": "tap", "target_id": "Device:d", "target_group": "nodes"}}
    assert graph_view.clicked_nodes(click) == ["Device:d"]
    assert graph_view.clicked_nodes({"action": "expand", "data": {"node_ids": ["A", "B"]}}
                                    ) == ["A", "B"]
    edge = {"action": graph_view.CLICK, "data": {"target_id": "x", "target_group": "edges"}}
    assert graph_view.clicked_nodes(edge) == []
    assert graph_view.clicked_nodes(None) == []
    assert graph_view.clicked_nodes({"action": "remove", "data": {"node_ids": ["A"]}}) == []


def test_the_ring_ids_of_an_applications_graph() -> None:
    graph = graph_view.merge(graph_view.empty("Application:A1"), _view())
    assert ring_panel.ring_ids_in(graph) == ["R1"]
    assert ring_panel.ring_ids_in(None) == []


def test_a_report_download_keeps_the_apis_file_name_and_media_type() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["format"] == "pdf"
        assert request.url.raw_path.decode().startswith("/v1/rings/R%2F1/report")
        return httpx.Response(200, content=b"%PDF-1.4", headers={
            "content-type": "application/pdf",
            "content-disposition": 'attachment; filename="../../ring-R1.pdf"'})

    file = _client(httpx.MockTransport(handler)).ring_report("tok", "R/1", "pdf")
    assert (file.data, file.media_type, file.filename) == (b"%PDF-1.4", "application/pdf",
                                                           "ring-R1.pdf")


def test_a_refused_report_is_a_console_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"title": "Invalid request", "status": 422,
                                         "detail": "query.format: bad"})

    with pytest.raises(ConsoleError) as caught:
        _client(httpx.MockTransport(handler)).ring_report("tok", "R1", "doc")
    assert caught.value.status == 422


def test_report_formats_are_the_apis() -> None:
    from rings.download import MEDIA_TYPES

    assert {fmt: media for fmt, (media, _) in REPORT_FORMATS.items()} == MEDIA_TYPES


def test_daily_counts_and_the_agent_table() -> None:
    days = tables.counts_by_day([{"date": "2026-03-01T10:00:00+08:00"},
                                 {"date": "2026-03-01T12:00:00+08:00"},
                                 {"date": "2026-03-02"}, {"date": None}], "date")
    assert days.to_dict("records") == [{"date": "2026-03-01", "count": 2},
                                       {"date": "2026-03-02", "count": 1}]
    rows = tables.agent_rows([{"dealer_id": "D1", "agents": [{"agent_id": "S1", "ring_members": 0},
                                                      {"agent_id": "S2", "ring_members": 3}]},
                       {"dealer_id": "D2", "agents": []}])
    assert [(r["dealer_id"], r["agent_id"]) for r in rows] == [("D1", "S2"), ("D1", "S1")]


def test_each_case_outcome_has_texts_and_escalation_closes_nothing() -> None:
    assert OUTCOMES["escalate"] == ()
    for outcome, dispositions in OUTCOMES.items():
        assert f"outcome_{outcome}" in TEXTS["en"]
        assert all(f"disp_{d}" in TEXTS["zh"] for d in dispositions)


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


def test_every_band_stage_and_queue_filter_has_texts_in_both_languages() -> None:
    from lifecycle.collection import Stage
    from lifecycle.portfolio import LADDER, RING_BANDS, ring_band
    from lifecycle.sla import SlaState

    assert {ring_band(s) for s in (0.0, 0.2, 0.9)} == set(RING_BANDS)
    assert set(LADDER) == {s.value for s in Stage} - {Stage.NONE.value}
    keys = ([f"band_{b.replace(' ', '_')}" for b in RING_BANDS]
            + [f"stage_{s.value}" for s in Stage] + [f"sla_{s.value}" for s in SlaState]
            + [f"case_status_{s}" for s in ("", "open", "in_progress")]
            + [f"assignee_{s}" for s in ("", "me", "unassigned")])
    for lang in ("en", "zh"):
        assert all(TEXTS[lang].get(key) for key in keys), lang
