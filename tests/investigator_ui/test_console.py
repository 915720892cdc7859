"""The console driven with AppTest against the real API and Neo4j."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from api.roles import Role
from graph.privacy import Pseudonymiser
from lifecycle.cases import sla_sweep
from lifecycle.context import Lifecycle
from tests.investigator_ui.conftest import Console
from tests.lifecycle.test_portfolio import APPS as PORTFOLIO_APPS
from tests.lifecycle.test_portfolio import BUILD as PORTFOLIO
from tests.lifecycle.test_portfolio import RINGS as PORTFOLIO_RINGS
from tests.utils import application_row

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
    assert [s.value for s in at.subheader][:5] == [
        "Funnel", "Tier mix", "Delinquency by stage", "Collection stage by graph (ring) risk",
        "Rates by graph (ring) risk"]
    # Three charts: there is no loan yet, so the two stage charts are captions.
    funnel, tiers, bands = at.get("vega_lite_chart")
    assert '"key"' in funnel.proto.spec and '"value"' in tiers.proto.spec
    assert "Fraud rate" in str(bands.proto) and "Delinquency rate" in str(bands.proto)
    assert [c.value for c in at.caption].count("No data yet.") == 2
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


def test_the_portfolio_page_crosses_collection_stages_with_ring_risk(console: Console
                                                                    ) -> None:
    console.runner.write(PORTFOLIO, rings=PORTFOLIO_RINGS, apps=PORTFOLIO_APPS)
    at = console.open("analyst.test")
    at.switch_page("views/portfolio.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    titles = [s.value for s in at.subheader]
    assert "Collection stage by graph (ring) risk" in titles
    table = next(d.value for d in at.dataframe if "Ring-risk band" in d.value.columns)
    assert list(table.columns) == ["Ring-risk band", "Collection stage", "Loans",
                                   "Loans in band", "Share of the band's loans",
                                   "Overdue amount"]
    assert len(table) == 15  # three bands, five stages
    cells = {(r["Ring-risk band"], r["Collection stage"]): (
        r["Loans"], r["Loans in band"], r["Share of the band's loans"], r["Overdue amount"])
        for r in table.to_dict("records")}
    assert cells[("Ring risk high", "Litigation, asset disposal (90+ days)")] == (
        2, 4, 0.5, 22000.0)
    assert cells[("Ring risk low", "Reminder (-3 to 0 days)")] == (1, 2, 0.5, 0.0)
    assert cells[("No ring", "M2 visit (31-60 days)")] == (1, 4, 0.25, 5000.0)
    assert cells[("No ring", "M3 lawyer's letter (61-90 days)")] == (0, 4, 0.0, 0.0)
    # One chart of shares, one bar per band within each stage, in ladder order.
    [crossed] = [c for c in at.get("vega_lite_chart") if "Ring-risk band" in str(c.proto)]
    assert "Share of the band" in str(crossed.proto)
    at.selectbox(key="lang").set_value("zh").run()
    table = next(d.value for d in at.dataframe if "团伙风险分层" in d.value.columns)
    assert {"无团伙", "团伙风险低", "团伙风险高"} == set(table["团伙风险分层"])


def _second_case(console: Console) -> str:
    """APP000003 sharing APP000001's phone and account too: a second tier-B case."""
    third = console.api("POST", "/v1/applications", Role.UNDERWRITER,
                        json=application_row(3, contact_phone="13800000001",
                                             bank_account="6222000000000000001"))
    assert third.status_code == 201 and third.json()["case_id"], third.text
    return str(third.json()["case_id"])


def test_the_queue_flags_escalated_cases_and_filters_by_it(console: Console,
                                                           review_case: str) -> None:
    other = _second_case(console)
    escalated = console.api("POST", f"/v1/cases/{review_case}/escalate", Role.INVESTIGATOR,
                            json={"reason": "dealer under audit; senior look"})
    assert escalated.status_code == 200, escalated.text
    at = console.open("investigator.test")
    assert not at.exception and not at.error, [e.value for e in at.error]
    queue = at.dataframe[0].value.set_index("Case")
    assert set(queue.index) == {review_case, other}
    assert queue.loc[review_case, "Escalated"] == "⚑ to supervisor"
    assert queue.loc[other, "Escalated"] == ""
    assert "2 of 2 live cases shown; 1 escalated." in [c.value for c in at.caption]

    at.checkbox(key="queue_escalated").check().run()
    assert list(at.dataframe[0].value["Case"]) == [review_case]
    assert at.selectbox(key="queue_case").options[0].endswith("· Escalated")
    assert "1 of 2 live cases shown; 1 escalated." in [c.value for c in at.caption]
    # Filters combine: nobody has taken the escalated case yet.
    at.selectbox(key="queue_assignee").set_value("me").run()
    assert [i.value for i in at.info] == ["No case matches these filters."]
    at.selectbox(key="queue_assignee").set_value("unassigned").run()
    assert list(at.dataframe[0].value["Case"]) == [review_case]
    at.checkbox(key="queue_escalated").uncheck().run()
    at.selectbox(key="queue_status").set_value("in_progress").run()
    assert [i.value for i in at.info] == ["No case matches these filters."]
    at.selectbox(key="queue_status").set_value("").run()
    assert set(at.dataframe[0].value["Case"]) == {review_case, other}


def test_the_queue_flags_a_case_the_sla_sweep_escalated(console: Console, review_case: str,
                                                        pseudo: Pseudonymiser) -> None:
    case = console.api("GET", f"/v1/cases/{review_case}", Role.INVESTIGATOR).json()
    # A month past its deadline: well beyond the grace period, so the sweep escalates it.
    late = datetime.fromisoformat(case["due_at"]) + timedelta(days=30)
    swept = sla_sweep(Lifecycle(runner=console.runner, pseudo=pseudo), now=late)
    assert swept.changed == {"escalated": 1}
    at = console.open("investigator.test")
    at.selectbox(key="queue_sla").set_value("escalated").run()
    assert not at.error, [e.value for e in at.error]
    queue = at.dataframe[0].value
    assert list(queue["Case"]) == [review_case]
    assert list(queue["Escalated"]) == ["⚑ to supervisor"]
    at.selectbox(key="queue_sla").set_value("breached").run()
    assert [i.value for i in at.info] == ["No case matches these filters."]
