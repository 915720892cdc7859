"""The Rings, Dealers and Model pages, and deciding a case from the application page,
driven with AppTest against the real API over a ring found by real detection."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from api.roles import Role
from graph.privacy import Pseudonymiser
from tests.investigator_ui.conftest import Console
from tests.investigator_ui.seed import RING_MEMBERS, load_ring_portfolio
from tests.investigator_ui.test_console import _texts, graph_drawn


@pytest.fixture
def ring_id(console: Console, pseudo: Pseudonymiser, tmp_path: Path) -> str:
    return load_ring_portfolio(console.runner, pseudo, tmp_path)


def _rings_page(console: Console, role: Role) -> AppTest:
    at = console.open(f"{role.value}.test")
    at.switch_page("views/rings.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


def test_the_rings_page_lists_the_ring_and_opens_it(console: Console, ring_id: str) -> None:
    at = _rings_page(console, Role.ANALYST)
    listing = at.dataframe[0].value
    assert list(listing["Ring"]) == [ring_id] and list(listing["Size"]) == [4]
    assert at.selectbox(key="ring_selected").value == ring_id
    shown = _texts(at)
    members = at.dataframe[2].value
    assert sorted(members["Application"]) == list(RING_MEMBERS)
    assert "KNOWN_FRAUD" in shown and "ring-device" in shown  # a reason, a shared device
    # Applicant names are masked in the table, as the API sends them.
    assert "张三" not in shown and members["Applicant"].str.contains(r"\*").all()
    graph = at.session_state["ring_graph"]
    assert {f"Application:{a}" for a in RING_MEMBERS} <= set(graph["nodes"])
    assert set(graph["ring"]) == {f"Application:{a}" for a in RING_MEMBERS}
    assert graph_drawn(at)
    assert [b.label for b in at.get("download_button")] == [
        "CSV", "XLSX", "JSON", "GRAPHML", "GEXF", "HTML", "PDF"]


def test_the_shortest_path_between_two_ring_members_is_marked(console: Console,
                                                              ring_id: str) -> None:
    at = _rings_page(console, Role.INVESTIGATOR)
    at.selectbox(key="ring_path_from").set_value("Application:APP000001")
    at.selectbox(key="ring_path_to").set_value("Application:APP000004")
    at.button(key="ring_path").click().run()
    assert [s.value for s in at.success] == ["Shortest path: 2 links, drawn thick."]
    path = at.session_state["ring_graph"]["path"]
    assert (path[0], path[-1], len(path)) == ("Application:APP000001",
                                              "Application:APP000004", 3)
    # Each step is a link the picture now holds (through a shared node or the ring).
    edges = {frozenset((e["source"], e["target"]))
             for e in at.session_state["ring_graph"]["edges"]}
    assert all(frozenset(step) in edges for step in zip(path, path[1:], strict=False))


def test_ring_filters_reach_the_api(console: Console, ring_id: str) -> None:
    at = _rings_page(console, Role.INVESTIGATOR)
    at.slider(key="rings_min_score").set_value(95)
    at.button(key="rings_apply").click().run()
    assert [i.value for i in at.info] == ["No ring matches these filters."]
    at.slider(key="rings_min_score").set_value(0)
    at.text_input(key="rings_dealer").input("D2")  # the ring's members are all at D1
    at.button(key="rings_apply").click().run()
    assert [i.value for i in at.info] == ["No ring matches these filters."]
    at.text_input(key="rings_dealer").input("D1")
    at.button(key="rings_apply").click().run()
    assert list(at.dataframe[0].value["Ring"]) == [ring_id]


def test_a_broken_filter_shows_the_api_problem_and_keeps_the_ring(console: Console,
                                                                  ring_id: str) -> None:
    at = _rings_page(console, Role.ANALYST)
    at.number_input(key="rings_page").set_value(200_000)  # past the API's page limit
    at.button(key="rings_apply").click().run()
    [error] = [e.value for e in at.error]
    assert "(422)" in error and "page" in error, error
    # Nothing was lost: the ring is still there for the next request.
    assert console.api("GET", f"/v1/rings/{ring_id}", Role.ANALYST).status_code == 200


def test_the_dealers_page_ranks_dealers_and_opens_a_dealers_ring(console: Console,
                                                                 ring_id: str) -> None:
    at = console.open("investigator.test")
    at.switch_page("views/dealers.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    league = at.dataframe[0].value
    assert list(league["Dealer"]) == ["D1", "D2"]  # D1 holds the ring: riskier
    assert list(league["Ring members"]) == [4, 0]
    agents = at.dataframe[1].value
    assert set(agents["Sales agent"]) == {"SA1"}
    assert at.get("vega_lite_chart")
    at.selectbox(key="dealers_dealer").set_value("D1")
    at.selectbox(key="dealers_ring").set_value(ring_id)
    at.button(key="dealers_open_ring").click().run()
    assert [h.value for h in at.header] == ["Rings"]
    assert at.selectbox(key="ring_selected").value == ring_id


def test_the_model_page_says_when_no_model_is_registered(console: Console) -> None:
    at = console.open("analyst.test")
    at.switch_page("views/model.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [i.value for i in at.info] == ["No model is registered yet."]


def test_a_case_is_escalated_then_decided_from_the_application_page(
        console: Console, review_case: str) -> None:
    at = console.open("investigator.test")
    at.session_state["app_id"] = "APP000002"
    at.switch_page("views/application.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state["app_case_id"] == review_case
    at.radio(key="app_case_outcome").set_value("escalate").run()
    with pytest.raises(KeyError):
        at.selectbox(key="app_case_disposition")  # escalating closes nothing
    at.text_area(key="app_case_note").input("x")
    at.button(key="app_case_decide").click().run()
    assert [e.value for e in at.error] == ["A note of at least 3 characters is required."]
    at.text_area(key="app_case_note").input("same dealer as last week's ring; senior look")
    at.button(key="app_case_decide").click().run()
    assert [s.value for s in at.success] == [f"Case {review_case} escalated to supervisor."]
    case = console.api("GET", f"/v1/cases/{review_case}", Role.INVESTIGATOR).json()
    assert (case["status"], case["escalated_to"]) == ("open", "supervisor")

    # An open case cannot be closed before someone takes it: the API says so, nothing moves.
    at.radio(key="app_case_outcome").set_value("fraud").run()
    at.selectbox(key="app_case_disposition").set_value("identity_theft")
    at.text_area(key="app_case_note").input("applicant's ID used without consent")
    at.button(key="app_case_decide").click().run()
    [error] = [e.value for e in at.error]
    assert error.startswith("Illegal transition (409)") and "'open'" in error, error
    assert console.api("GET", f"/v1/cases/{review_case}",
                       Role.INVESTIGATOR).json()["status"] == "open"
    at.button(key="app_case_assign").click().run()
    at.text_area(key="app_case_note").input("applicant's ID used without consent")
    at.button(key="app_case_decide").click().run()
    assert [s.value for s in at.success] == [f"Case {review_case} closed: confirmed_fraud."]
    case = console.api("GET", f"/v1/cases/{review_case}", Role.INVESTIGATOR).json()
    assert (case["status"], case["disposition"]) == ("confirmed_fraud", "identity_theft")


def _search(at: AppTest, kind: str, value: str) -> None:
    at.switch_page("views/search.py").run()
    at.selectbox(key="search_kind").set_value(kind)
    at.text_input(key="search_value").input(value)
    at.button(key="search_submit").click().run()


def test_an_investigator_proposes_a_phone_for_the_watchlist(console: Console,
                                                            review_case: str) -> None:
    at = console.open("investigator.test")
    _search(at, "phone", "13800000001")
    at.text_input(key="watchlist_reason").input("no")
    at.button(key="watchlist_submit").click().run()
    assert [e.value for e in at.error] == ["Give a reason of at least 5 characters."]
    assert console.api("GET", "/v1/approvals", Role.ADMIN).json() == []
    at.text_input(key="watchlist_reason").input("shared by a ring's applicant and a contact")
    at.button(key="watchlist_submit").click().run()
    [message] = [s.value for s in at.success]
    [pending] = console.api("GET", "/v1/approvals", Role.ADMIN).json()
    assert pending["approval_id"] in message and pending["requested_by"] == "investigator.test"
    assert "13800000001" not in str(pending)  # the request holds no clear value


def test_a_watchlist_value_the_api_refuses_shows_its_problem(console: Console,
                                                             review_case: str) -> None:
    at = console.open("investigator.test")
    _search(at, "phone", "13800000001")
    # The search box holds garbage by the time of the click (a form keeps typed text
    # until submitted, so set it directly): the API normalises the value and refuses it.
    at.session_state["search_value"] = "not a phone"
    at.text_input(key="watchlist_reason").input("typed the wrong thing on purpose")
    at.button(key="watchlist_submit").click().run()
    [error] = [e.value for e in at.error]
    assert "(422)" in error, error
    assert console.api("GET", "/v1/approvals", Role.ADMIN).json() == []
    assert console.api("GET", "/v1/watchlist", Role.INVESTIGATOR).json() == []


def test_an_underwriter_cannot_propose_for_the_watchlist(console: Console,
                                                         review_case: str) -> None:
    at = console.open("underwriter.test")
    _search(at, "phone", "13800000001")
    assert at.session_state["search_result"]["applications"]
    with pytest.raises(KeyError):
        at.button(key="watchlist_submit")
