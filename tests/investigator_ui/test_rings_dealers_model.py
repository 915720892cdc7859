"""The Rings, Dealers and Model pages, and deciding a case from the application page,
driven with AppTest against the real API over a ring found by real detection."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from api.roles import Role
from fraudgraph.settings import Settings
from graph.privacy import Pseudonymiser
from graph.runner import Query
from investigator_ui import reports
from tests.investigator_ui.conftest import Console, score_with_champion, write_model_portfolio
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
    assert _report_buttons(at) == ["CSV", "XLSX", "JSON", "GRAPHML", "GEXF", "HTML", "PDF"]
    assert not at.get("download_button")  # nothing is fetched before it is asked for


def test_an_investigator_reveals_a_members_name_with_a_reason_and_it_is_audited(
        console: Console, ring_id: str) -> None:
    # An analyst may read rings but not clear values: no reveal on the page.
    analyst = _rings_page(console, Role.ANALYST)
    assert "ring_reveal_member" not in [s.key for s in analyst.selectbox]
    at = _rings_page(console, Role.INVESTIGATOR)
    at.selectbox(key="ring_reveal_member").set_value(RING_MEMBERS[1]).run()
    at.text_input(key="ring_reveal_reason").input("no").run()
    at.button(key="ring_reveal_submit").click().run()
    assert [e.value for e in at.error] == ["Give a reason of at least 5 characters."]
    assert not at.code
    at.text_input(key="ring_reveal_reason").input("ring review: same device, four names")
    at.button(key="ring_reveal_submit").click().run()
    assert [c.value for c in at.code] == ["张三"]
    node = f"Application:{RING_MEMBERS[1]}"
    events = console.api("GET", "/v1/audit", Role.ADMIN, params={"target": node}).json()
    assert [(e["action"], e["actor"], e["params"]["reason"]) for e in events] == [
        ("reveal_pii", "investigator.test", "ring review: same device, four names")]


def _report_buttons(at: AppTest) -> list[str]:
    return [b.label for b in at.button if str(b.key).startswith("ring_report_")]


#: Takes a ring out of its run (the API finds a ring by its key, ``ring_id@run_id``).
HIDE_RING = Query("test.console.hide_ring",
                  "MATCH (g:Ring {ring_id: $ring_id}) SET g.ring_key = g.ring_key + '-gone'")


def test_a_report_is_fetched_when_asked_then_saved_and_the_export_audited(
        console: Console, ring_id: str) -> None:
    at = _rings_page(console, Role.INVESTIGATOR)
    at.button(key="ring_report_pdf").click().run()
    assert not at.error, [e.value for e in at.error]
    [save] = at.get("download_button")
    assert save.proto.label == f"Save ring-{ring_id}.pdf"
    kept = at.session_state["ring_report"]
    assert (kept["ring_id"], kept["format"], kept["file_name"], kept["mime"]) == (
        ring_id, "pdf", f"ring-{ring_id}.pdf", "application/pdf")
    assert kept["data"].startswith(b"%PDF")
    events = console.api("GET", "/v1/audit", Role.ADMIN, params={"target": ring_id}).json()
    assert [(e["action"], e["actor"]) for e in events] == [("ring.export",
                                                            "investigator.test")]
    # Another format replaces the file kept: one report at a time.
    at.button(key="ring_report_json").click().run()
    [save] = at.get("download_button")
    assert save.proto.label == f"Save ring-{ring_id}.json"
    assert ring_id in at.session_state["ring_report"]["data"].decode()


def test_a_report_the_api_refuses_is_an_error_on_the_page(console: Console,
                                                          ring_id: str) -> None:
    at = _rings_page(console, Role.ANALYST)
    # The ring goes away (a new detection run, a clean-up) while the page shows it.
    console.runner.write(HIDE_RING, ring_id=ring_id)
    at.button(key="ring_report_csv").click().run()
    errors = [e.value for e in at.error]
    assert any(e.startswith("The CSV report could not be exported: Not found (404)")
               for e in errors), errors
    assert not at.get("download_button") and at.session_state["ring_report"] is None
    events = console.api("GET", "/v1/audit", Role.ADMIN,
                         params={"target": ring_id}).json()
    assert events == []  # nothing was exported


def test_a_format_the_api_does_not_serve_shows_its_problem(
        console: Console, ring_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # A console newer than its API offering a format the API does not know.
    monkeypatch.setitem(reports.REPORT_FORMATS, "docx", ("application/msword", "docx"))
    at = _rings_page(console, Role.ADMIN)
    assert _report_buttons(at)[-1] == "DOCX"
    at.button(key="ring_report_docx").click().run()
    [error] = [e.value for e in at.error]
    assert error.startswith("The DOCX report could not be exported: ") and "(422)" in error
    assert "format" in error, error
    assert not at.get("download_button")
    # The ring itself is still shown, and another format still works.
    assert "Shared identifiers" in [s.value for s in at.subheader]
    at.button(key="ring_report_html").click().run()
    assert not at.error and at.get("download_button")


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
    # D1: 100 * (0.5 * 4 ring members + 0.3 * 1 fraud label) / (6 + 50 prior) = 4.11;
    # D2 has no ring member, fraud label or first-payment default: 0.
    assert list(league["Risk score"]) == [4.11, 0.0]
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


def _metric(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def test_the_model_page_shows_a_registered_champion_its_baselines_and_drift(
        console: Console, registered_models: Settings) -> None:
    apps = write_model_portfolio(console.runner)
    assert score_with_champion(console.runner, registered_models) == len(apps) == 240
    registry = console.api("GET", "/v1/model", Role.ANALYST).json()
    champion, challenger = registry["champion"], registry["challenger"]
    meta = json.loads((registered_models.gnn_model_dir / champion["version"]
                       / "meta.json").read_text(encoding="utf-8"))
    tested = meta["metrics"]["models"]
    # The API reads the figures the trainer wrote, for the champion and all three models.
    assert sorted(c["model"] for c in champion["comparison"]) == sorted(tested) == [
        "gbt_neighbours", "gbt_own", "gnn"]
    assert challenger is not None and challenger["kind"] != champion["kind"]

    at = console.open("analyst.test")
    at.switch_page("views/model.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert not at.info  # not "no model registered"
    titles = [h.value for h in at.subheader]
    assert titles == [f"Champion {champion['version']} ({champion['kind']})",
                      "Against the baselines",
                      f"Challenger {challenger['version']} ({challenger['kind']}), in shadow",
                      "Score distribution by month", "Drift (PSI against training)"]
    own = tested[champion["kind"]]["test"]
    shown = {m.label: m.value for m in at.metric[:3]}
    assert shown == {"ROC AUC": _metric(own["roc_auc"]),
                     "Average precision": _metric(own["average_precision"]),
                     "Recall at 1% alerts": _metric(own["recall_at_1pct"])}
    table = at.dataframe[0].value.set_index("Model")
    for model, figures in tested.items():
        assert table.loc[model, "ROC AUC"] == pytest.approx(figures["test"]["roc_auc"])
        assert table.loc[model, "Average precision"] == pytest.approx(
            figures["test"]["average_precision"])
    # The applications were submitted over a year: one period per month, in order, the
    # first the reference of the drift.
    months = pd.to_datetime(apps["ts"], unit="s", utc=True).dt.strftime("%Y-%m")
    periods = registry["score_distribution"]
    assert [(p["period"], p["applications"]) for p in periods] == sorted(
        months.value_counts().items())
    assert len(periods) >= 12
    # Real scores: about a third of the groups are rings, which the champion finds.
    assert 0.1 < sum(p["mean"] * p["applications"] for p in periods) / len(apps) < 0.6
    assert max(p["p90"] for p in periods) > 0.5 > min(p["p50"] for p in periods)
    drift = registry["drift"]
    assert [d["period"] for d in drift] == [p["period"] for p in periods]
    assert drift[0]["psi"] == 0 and all(d["psi"] >= 0 for d in drift)
    worst = max(d["psi"] for d in drift)
    assert worst > 0  # months of 20 applications never match the first exactly
    # Four charts: baselines, scores by month, tier shares by month, drift.
    charts = at.get("vega_lite_chart")
    assert len(charts) == 4
    assert "Mean score" in str(charts[1].proto) and "Share tier B" in str(charts[2].proto)
    assert "PSI" in str(charts[3].proto)
    notes = [c.value for c in at.caption] + [w.value for w in at.warning]
    assert f"Largest PSI {worst:.3f}; above 0.25 the population has shifted." in notes


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
