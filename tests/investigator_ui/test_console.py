"""The console driven with AppTest against the real API and Neo4j."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from api.roles import Role
from tests.investigator_ui.conftest import Console

ALL_PAGES = ("queue", "application", "graph", "search", "rings", "dealers", "portfolio",
             "model")
#: Written out here, not derived from the app's table, so a wrong table fails.
EXPECTED_PAGES = {
    Role.UNDERWRITER: {"application", "search"},
    Role.INVESTIGATOR: {"queue", "application", "graph", "search", "rings", "dealers",
                        "model"},
    Role.ANALYST: {"application", "graph", "rings", "dealers", "portfolio", "model"},
    Role.ADMIN: set(ALL_PAGES),
}


def _registered(at: AppTest, page: str) -> bool:
    """Whether st.navigation offers the page: AppTest refuses to switch to any other."""
    try:
        at.switch_page(f"views/{page}.py")
    except ValueError:
        return False
    return True


def graph_drawn(at: AppTest) -> bool:
    """Whether the page drew the st-link-analysis component (AppTest does not render
    components; it keeps their element with the component's name)."""
    return any("st_link_analysis" in str(getattr(e, "proto", ""))
               for e in at.get("component_instance") + at.get("unknown"))


def _texts(at: AppTest) -> str:
    """Everything the page shows as text, tables and JSON included (not the inputs)."""
    parts = [str(e.value) for kind in ("markdown", "caption", "json", "error", "success",
                                       "info", "metric", "header", "subheader")
             for e in getattr(at, kind)]
    parts += [df.value.to_csv() for df in at.dataframe]
    return "\n".join(parts)


def test_a_wrong_password_shows_the_error_and_opens_nothing(console: Console) -> None:
    at = console.open("investigator.test", password="not-the-password")
    assert not at.exception
    assert [e.value for e in at.error] == ["Sign-in failed: unknown user or wrong password"]
    assert at.session_state["user"] is None
    assert not any(_registered(at, page) for page in ALL_PAGES)


def test_each_role_sees_exactly_its_pages(console: Console) -> None:
    for role, expected in EXPECTED_PAGES.items():
        at = console.open(f"{role.value}.test")
        assert not at.error, (role, [e.value for e in at.error])
        assert at.session_state["user"].role == role.value
        shown = {page for page in ALL_PAGES if _registered(at, page)}
        assert shown == expected, role
    # Signing out leaves only the sign-in page.
    at.button(key="sign_out").click().run()
    assert at.session_state["user"] is None
    assert not _registered(at, "application")


def test_the_console_speaks_chinese_when_asked(console: Console) -> None:
    at = console.open()
    at.selectbox(key="lang").set_value("zh").run()
    assert at.title[0].value == "fraudgraph 反欺诈调查台"
    assert at.button(key="sign_in_submit").label == "登录"


def test_search_finds_an_entity_and_shows_masked_values_only(console: Console,
                                                              review_case: str) -> None:
    at = console.open("investigator.test")
    at.switch_page("views/search.py").run()
    at.selectbox(key="search_kind").set_value("phone")
    at.text_input(key="search_value").input("13800000001")
    at.button(key="search_submit").click().run()
    assert not at.exception and not at.error
    shown = _texts(at)
    assert "138****0001" in shown
    # Both applications reach this phone (applicant of 1, contact of 2).
    assert "APP000001" in shown and "APP000002" in shown
    assert "13800000001" not in shown and "8613800000001" not in shown
    assert "13800000001" not in str(at.session_state["search_result"])
    assert not at.code  # nothing in clear until asked, with a reason


def test_an_investigator_reveals_a_value_with_a_reason_and_it_is_audited(
        console: Console, review_case: str) -> None:
    at = console.open("investigator.test")
    at.switch_page("views/search.py").run()
    at.selectbox(key="search_kind").set_value("phone")
    at.text_input(key="search_value").input("13800000001")
    at.button(key="search_submit").click().run()
    at.text_input(key="reveal_reason").input("x")
    at.button(key="reveal_submit").click().run()
    assert [e.value for e in at.error] == ["Give a reason of at least 5 characters."]
    at.text_input(key="reveal_reason").input("case review: phone shared by two applicants")
    at.button(key="reveal_submit").click().run()
    assert [c.value for c in at.code] == ["+8613800000001"]
    node = at.session_state["search_result"]["node"]["id"]
    events = console.api("GET", "/v1/audit", Role.ADMIN, params={"target": node}).json()
    assert [(e["action"], e["actor"]) for e in events] == [("reveal_pii", "investigator.test")]


def test_an_unknown_value_shows_the_api_problem(console: Console) -> None:
    at = console.open("underwriter.test")
    at.switch_page("views/search.py").run()
    at.selectbox(key="search_kind").set_value("dealer")
    at.text_input(key="search_value").input("NO-SUCH-DEALER")
    at.button(key="search_submit").click().run()
    assert [e.value for e in at.error] == [
        "Not found (404): no dealer with that value is in the graph"]


def test_the_application_page_shows_tier_reasons_and_expands_a_node(console: Console,
                                                                   review_case: str) -> None:
    at = console.open("investigator.test")
    at.session_state["app_id"] = "APP000002"
    at.switch_page("views/application.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.metric[0].value == "B"
    reasons = at.dataframe[0].value
    assert len(reasons) >= 1 and reasons["Code"].str.len().min() > 0
    assert graph_drawn(at)
    graph = at.session_state["app_graph"]
    assert "Application:APP000002" in graph["nodes"]
    assert "Application:APP000001" not in graph["nodes"]  # two hops away, not shown yet
    # Expand the shared bank account: the neighbourhood call brings APP000001 in.
    account = next(n for n, node in graph["nodes"].items() if node["label"] == "BankAccount")
    before = len(graph["nodes"])
    at.selectbox(key="app_expand_choice").set_value(account)
    at.button(key="app_expand").click().run()
    graph = at.session_state["app_graph"]
    assert "Application:APP000001" in graph["nodes"]
    assert len(graph["nodes"]) > before
    assert f"{len(graph['nodes'])} nodes" in _texts(at)


def test_an_underwriter_sees_the_application_but_no_graph_nor_reveal(
        console: Console, review_case: str) -> None:
    at = console.open("underwriter.test")
    at.session_state["app_id"] = "APP000002"
    at.switch_page("views/application.py").run()
    assert at.metric[0].value == "B" and not at.error
    assert "app_graph" not in at.session_state
    assert not graph_drawn(at)
    at.switch_page("views/search.py").run()
    at.selectbox(key="search_kind").set_value("phone")
    at.text_input(key="search_value").input("13800000001")
    at.button(key="search_submit").click().run()
    assert at.session_state["search_result"]["applications"]
    with pytest.raises(KeyError):
        at.button(key="reveal_submit")


def test_a_case_is_assigned_and_decided_from_the_queue(console: Console,
                                                       review_case: str) -> None:
    at = console.open("investigator.test")  # the queue is an investigator's first page
    queue = at.dataframe[0].value
    assert list(queue["Case"]) == [review_case]
    at.selectbox(key="queue_case").set_value(review_case)
    at.button(key="queue_assign").click().run()
    assert [s.value for s in at.success] == [
        f"Case {review_case} assigned to investigator.test."]
    case = console.api("GET", f"/v1/cases/{review_case}", Role.INVESTIGATOR).json()
    assert (case["status"], case["assignee"]) == ("in_progress", "investigator.test")

    at.button(key="queue_open").click().run()
    assert [h.value for h in at.header] == ["Application"] and at.metric[0].value == "B"
    at.switch_page("views/queue.py").run()
    at.selectbox(key="queue_case").set_value(review_case)
    at.radio(key="queue_outcome").set_value("clear").run()
    at.selectbox(key="queue_disposition").set_value("false_positive")
    at.text_area(key="queue_note").input("shared account is the family's; checked with dealer")
    at.button(key="queue_decide").click().run()
    assert not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success] == [f"Case {review_case} closed: cleared."]
    case = console.api("GET", f"/v1/cases/{review_case}", Role.INVESTIGATOR).json()
    assert (case["status"], case["disposition"]) == ("cleared", "false_positive")
    assert [i.value for i in at.info] == ["No open cases."]


def test_deciding_without_a_note_is_refused_before_calling(console: Console,
                                                           review_case: str) -> None:
    at = console.open("investigator.test")
    at.button(key="queue_decide").click().run()
    assert [e.value for e in at.error] == ["A note of at least 3 characters is required."]
    case = console.api("GET", f"/v1/cases/{review_case}", Role.INVESTIGATOR).json()
    assert case["status"] == "open"


def test_an_analyst_sees_portfolio_charts_and_explores_the_graph(console: Console,
                                                                 review_case: str) -> None:
    at = console.open("analyst.test")
    at.switch_page("views/portfolio.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [s.value for s in at.subheader][:4] == ["Funnel", "Tier mix", "Delinquency by stage",
                                                   "Rates by graph (ring) risk"]
    # Three charts: nothing is delinquent yet, so that one is a caption.
    funnel, tiers, bands = at.get("vega_lite_chart")
    assert '"key"' in funnel.proto.spec and '"value"' in tiers.proto.spec
    assert "Fraud rate" in str(bands.proto) and "Delinquency rate" in str(bands.proto)
    assert "No data yet." in [c.value for c in at.caption]
    cut = at.dataframe[-1].value  # the two applications have no ring: one band
    assert list(cut["Band"]) == ["no ring"] and list(cut["Applications"]) == [2]

    at.switch_page("views/graph.py").run()
    at.text_input(key="explorer_node").input("Application:APP000002")
    at.number_input(key="explorer_hops").set_value(2)
    at.button(key="explorer_submit").click().run()
    assert not at.error, [e.value for e in at.error]
    nodes = at.session_state["explorer_graph"]["nodes"]
    assert "Application:APP000001" in nodes  # two hops: through the shared account
    at.text_input(key="explorer_node").input("Application:NOPE")
    at.button(key="explorer_submit").click().run()
    assert [e.value for e in at.error] == [
        "Not found (404): node 'Application:NOPE' does not exist"]
