"""The console in Chromium: each role's pages, a ring opened, a node expanded by clicking
it in the graph, every report format downloaded and a refused one explained, masked and
clear values, the Model page with a registered champion, collection stages by ring risk,
and the escalated case flagged in the review queue."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

from api.roles import Role
from graph.runner import Query, QueryRunner
from investigator_ui import reports
from tests.investigator_ui.browser.conftest import World, settle
from tests.investigator_ui.conftest import PASSWORD
from tests.investigator_ui.seed import RING_MEMBERS

NAV = '[data-testid="stSidebarNavLink"]'
GRAPH_FRAME = 'iframe[title*="st_link_analysis"]'
#: Menu entries each role must get, written out (not read from the app) so a wrong table
#: in the app fails here.
MENUS = {
    Role.UNDERWRITER: ["Application", "Search"],
    Role.INVESTIGATOR: ["Review queue", "Application", "Graph explorer", "Search", "Rings",
                        "Dealers", "Model"],
    Role.ANALYST: ["Application", "Graph explorer", "Rings", "Dealers", "Portfolio", "Model"],
    Role.ADMIN: ["Review queue", "Application", "Graph explorer", "Search", "Rings",
                 "Dealers", "Portfolio", "Model"],
}
#: What each downloaded report must start with or contain, by format.
REPORT_CHECKS = {
    "csv": lambda data, ring: any(ring in zipfile.ZipFile(io.BytesIO(data)).read(n).decode()
                                  for n in zipfile.ZipFile(io.BytesIO(data)).namelist()),
    "xlsx": lambda data, ring: "xl/workbook.xml" in zipfile.ZipFile(io.BytesIO(data)).namelist(),
    "json": lambda data, ring: ring in json.dumps(json.loads(data)),
    "graphml": lambda data, ring: b"<graphml" in data and RING_MEMBERS[0].encode() in data,
    "gexf": lambda data, ring: b"<gexf" in data and RING_MEMBERS[0].encode() in data,
    "html": lambda data, ring: b"<html" in data.lower() and ring.encode() in data,
    "pdf": lambda data, ring: data.startswith(b"%PDF"),
}


def sign_in(world: World, page: Any, role: Role) -> None:
    page.goto(world.url)
    page.get_by_role("textbox", name="Username").fill(f"{role.value}.test")
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {role.value}.test").wait_for()


def menu(page: Any, expected: list[str]) -> list[str]:
    """The sidebar's entries once they equal ``expected``, or what they were after 10 s.

    Streamlit redraws the sidebar in pieces after a rerun (the caption can change before
    the navigation does), so one read may catch the page half way.
    """
    page.locator(NAV).first.wait_for()
    seen: list[str] = []
    for _ in range(40):
        seen = [_label(text) for text in page.locator(NAV).all_inner_texts()]
        if seen == expected:
            break
        page.wait_for_timeout(250)
    return seen


def _label(text: str) -> str:
    # A nav entry's text is its Material icon's ligature name, then the title.
    return text.strip().splitlines()[-1].strip()


def open_page(page: Any, title: str) -> None:
    page.locator(NAV).filter(has_text=re.compile(rf"{re.escape(title)}\s*$")).click()
    page.get_by_role("heading", name=title).first.wait_for()


def _graph_size(page: Any) -> int:
    text = page.get_by_text(re.compile(r"^\d+ nodes, \d+ links$")).first.inner_text()
    return int(text.split()[0])


def _node_point(page: Any, node_id: str) -> tuple[float, float]:
    """Where ``node_id`` is drawn, in page coordinates, once the layout has settled."""
    frame_box = page.locator(GRAPH_FRAME).bounding_box()
    frame = page.locator(GRAPH_FRAME).element_handle().content_frame()
    script = """id => {
        const cy = document.getElementById('cy')?._cyreg?.cy;
        if (!cy || cy.getElementById(id).empty()) return null;
        const box = cy.container().getBoundingClientRect();
        const p = cy.getElementById(id).renderedPosition();
        return [box.left + p.x, box.top + p.y];
    }"""
    last = None
    for _ in range(60):  # the cose layout animates: wait until the node stops moving
        point = frame.evaluate(script, node_id)
        if point is not None and point == last:
            return frame_box["x"] + point[0], frame_box["y"] + point[1]
        last = point
        page.wait_for_timeout(250)
    raise AssertionError(f"{node_id} was not drawn still in the graph (last seen {last})")


def test_each_role_gets_its_menu_and_an_underwriter_no_rings(world: World, page: Any) -> None:
    for role, expected in MENUS.items():
        sign_in(world, page, role)
        assert menu(page, expected) == expected, role
        world.shot(page, f"{role.value}-first-page")
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("button", name="Sign in").wait_for()
    assert "Rings" not in MENUS[Role.UNDERWRITER]


def test_the_console_switches_to_chinese(world: World, page: Any) -> None:
    sign_in(world, page, Role.ANALYST)
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').click()
    page.get_by_role("option", name="中文").click()
    page.get_by_text("当前用户 analyst.test（analyst）").wait_for()
    chinese = ["申请详情", "关系图谱", "欺诈团伙", "经销商", "资产组合", "模型"]
    assert menu(page, chinese) == chinese
    open_page(page, "欺诈团伙")
    page.get_by_role("heading", name="共用标识").wait_for()
    world.shot(page, "analyst-rings-zh")


def test_an_investigator_opens_a_ring_expands_a_node_by_clicking_and_exports(
        world: World, page: Any, tmp_path: Any) -> None:
    sign_in(world, page, Role.INVESTIGATOR)
    open_page(page, "Rings")
    page.get_by_role("heading", name="Members").wait_for()
    page.locator(GRAPH_FRAME).scroll_into_view_if_needed()
    before = _graph_size(page)
    x, y = _node_point(page, f"Application:{RING_MEMBERS[0]}")
    page.mouse.click(x, y)
    # The click went to Python, which asked the API for the neighbours and merged them.
    page.wait_for_function(
        """n => [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
                .some(e => /^\\d+ nodes/.test(e.innerText) && parseInt(e.innerText) > n)""",
        arg=before)
    assert _graph_size(page) > before
    world.shot(page, "investigator-ring-expanded")

    for fmt, check in REPORT_CHECKS.items():
        # The format's button asks the API; the file's own button then saves it.
        page.get_by_role("button", name=fmt.upper(), exact=True).click()
        name = reports.file_name(world.ring_id, fmt)
        save = page.get_by_role("button", name=re.compile(rf"Save {re.escape(name)}$"))
        with page.expect_download() as caught:
            save.click()
        download = caught.value
        target = tmp_path / download.suggested_filename
        download.save_as(target)
        data = target.read_bytes()
        assert download.suggested_filename.startswith(f"ring-{world.ring_id}."), fmt
        assert data and check(data, world.ring_id), (fmt, data[:200])


def _search_phone(page: Any, phone: str, masked: str) -> None:
    open_page(page, "Search")
    page.get_by_label("Kind").click()
    page.get_by_role("option", name="Phone", exact=True).click()
    page.get_by_label("Value").fill(phone)
    page.get_by_role("button", name="Search").click()
    page.get_by_text(masked).first.wait_for()


def _main_text(page: Any) -> str:
    """What the page shows as text, tables' accessible cells included, not the inputs."""
    return page.locator('[data-testid="stMain"]').inner_text()


def test_what_each_role_sees_masked_and_in_clear(world: World, page: Any) -> None:
    # An analyst reads the ring's members with masked applicant names.
    sign_in(world, page, Role.ANALYST)
    open_page(page, "Rings")
    page.get_by_role("heading", name="Members").wait_for()
    page.get_by_text("张*", exact=True).first.wait_for(state="attached")
    assert "张三" not in page.content()
    world.shot(page, "analyst-rings")
    page.get_by_role("button", name="Sign out").click()

    # An investigator finds a phone masked, then reveals it with a reason (audited).
    sign_in(world, page, Role.INVESTIGATOR)
    _search_phone(page, "13800000001", "138****0001")
    assert "+8613800000001" not in _main_text(page)
    page.locator("summary").filter(has_text="Reveal the clear value").click()
    page.get_by_label("Why you need it (kept in the audit log)").fill(
        "ring review: shared device and accounts")
    page.locator('[data-testid="stButton"] button').filter(
        has_text="Reveal the clear value").click()
    page.get_by_text("+8613800000001").wait_for()
    world.shot(page, "investigator-search-revealed")
    page.get_by_role("button", name="Sign out").click()

    # An underwriter finds the same phone, masked, with nothing to reveal it.
    sign_in(world, page, Role.UNDERWRITER)
    _search_phone(page, "13800000001", "138****0001")
    assert page.locator("summary").filter(has_text="Reveal the clear value").count() == 0
    assert "+8613800000001" not in _main_text(page)


SLOW_MS = 120_000
ERROR_ALERT = '[data-testid="stAlertContentError"]'
#: A text each page shows once its script has run to the end on the module's data.
PAGE_DONE = {
    "Review queue": "live cases shown",
    "Application": "Linked entities",
    "Graph explorer": "Node (Label:key)",
    "Search": "Value",
    "Rings": "Shared identifiers",
    "Dealers": "Sales agents",
    "Portfolio": "Rates by graph (ring) risk",
    "Model": "Largest PSI",
}


def test_every_page_draws_without_an_error_and_is_kept_as_a_screenshot(
        world: World, page: Any) -> None:
    sign_in(world, page, Role.ADMIN)  # an admin has every page
    for title in MENUS[Role.ADMIN]:
        open_page(page, title)
        if title == "Application":
            page.get_by_role("textbox", name="Application id").fill(RING_MEMBERS[1])
            page.keyboard.press("Enter")
            page.locator(GRAPH_FRAME).wait_for()
        # The first model read imports torch in the API: slow on a busy machine. An error
        # shown instead ends the wait at once and fails below with its text.
        done = page.get_by_text(PAGE_DONE[title]).first
        done.or_(page.locator(ERROR_ALERT)).first.wait_for(timeout=SLOW_MS)
        settle(page)
        assert page.locator('[data-testid="stException"]').count() == 0, title
        errors = page.locator(ERROR_ALERT).all_inner_texts()
        assert errors == [], (title, errors)
        shown, drawn = charts_drawn(page)
        assert shown == drawn, (title, shown, drawn)
        world.shot(page, f"admin-{title.lower().replace(' ', '-')}")


CHART = '[data-testid="stVegaLiteChart"]'


def charts_drawn(page: Any, expected: int = 0) -> tuple[int, int]:
    """(charts on the page, charts Vega-Lite drew), once at least ``expected`` are on the
    page and they agree, or after 20 s: a chart whose spec Vega-Lite cannot read (a quote
    in a field name) stays an empty frame. Without ``expected``, zero charts agree at
    once: on a busy machine a page's charts can still be on their way (a full run
    beside benchmarks saw (0, 0))."""
    counts = (0, 0)
    for _ in range(80):
        counts = (page.locator(CHART).count(), page.locator(f"{CHART} svg.marks").count())
        if counts[0] >= expected and counts[0] == counts[1]:
            break
        page.wait_for_timeout(250)
    return counts


def test_the_model_page_shows_the_registered_champion(world: World, page: Any) -> None:
    sign_in(world, page, Role.ANALYST)
    open_page(page, "Model")
    # The first model read imports torch in the API: allow for a busy machine.
    page.get_by_text("Largest PSI").first.wait_for(timeout=SLOW_MS)
    settle(page)
    for heading in ("Against the baselines", "Score distribution by month",
                    "Drift (PSI against training)"):
        assert page.get_by_role("heading", name=heading).count() == 1, heading
    assert page.get_by_role("heading", name=re.compile(r"^Champion \S+ \(")).count() == 1
    assert page.get_by_role("heading", name=re.compile(r"^Challenger ")).count() == 1
    # Baselines, scores by month, tier shares by month, drift: each drawn.
    assert charts_drawn(page, 4) == (4, 4)
    assert page.locator(ERROR_ALERT).count() == 0
    world.shot(page, "analyst-model-champion")


def test_the_portfolio_page_charts_collection_stages_by_ring_risk(world: World,
                                                                  page: Any) -> None:
    sign_in(world, page, Role.ANALYST)
    open_page(page, "Portfolio")
    heading = page.get_by_role("heading", name="Collection stage by graph (ring) risk")
    heading.wait_for()
    page.get_by_text("Rates by graph (ring) risk").first.wait_for()
    settle(page)
    # The ring members' loans fall in the ring's band, the others' in no ring.
    page.get_by_text(re.compile(r"^Ring risk (low|high)$")).first.wait_for(state="attached")
    page.get_by_text("No ring", exact=True).first.wait_for(state="attached")
    page.get_by_text("Litigation, asset disposal (90+ days)",
                     exact=True).first.wait_for(state="attached")
    # Funnel, tier mix, delinquency by stage, stages by ring risk, rates by ring risk:
    # each drawn.
    assert charts_drawn(page, 5) == (5, 5)
    heading.scroll_into_view_if_needed()
    world.shot(page, "analyst-portfolio-stages-by-ring-risk")


def test_the_queue_flags_the_escalated_case_and_filters_by_it(world: World,
                                                              page: Any) -> None:
    sign_in(world, page, Role.INVESTIGATOR)  # the queue is an investigator's first page
    page.get_by_text("1 of 1 live cases shown; 1 escalated.").wait_for()
    page.get_by_text("⚑ to supervisor").first.wait_for(state="attached")
    page.get_by_text("Escalated only").click()
    page.get_by_text("1 of 1 live cases shown; 1 escalated.").wait_for()
    settle(page)
    assert page.locator(ERROR_ALERT).count() == 0
    world.shot(page, "investigator-queue-escalated")


HIDE_RING = Query("test.browser.hide_ring",
                  "MATCH (g:Ring {ring_id: $ring_id}) SET g.ring_key = g.ring_key + '-gone'")
SHOW_RING = Query("test.browser.show_ring",
                  "MATCH (g:Ring {ring_id: $ring_id}) "
                  "SET g.ring_key = replace(g.ring_key, '-gone', '')")


def test_a_refused_report_says_why_on_the_page(world: World, page: Any,
                                               _session_runner: QueryRunner) -> None:
    sign_in(world, page, Role.INVESTIGATOR)
    open_page(page, "Rings")
    page.get_by_role("heading", name="Members").wait_for()
    # The ring leaves its run (a new detection, a clean-up) while the page shows it.
    _session_runner.write(HIDE_RING, ring_id=world.ring_id)
    try:
        page.get_by_role("button", name="CSV", exact=True).click()
        refused = page.locator(ERROR_ALERT).filter(
            has_text="The CSV report could not be exported: Not found (404)")
        refused.wait_for()
        settle(page)
        assert page.get_by_role("button", name=re.compile(r"^Save ring-")).count() == 0
        world.shot(page, "investigator-report-refused")
    finally:
        _session_runner.write(SHOW_RING, ring_id=world.ring_id)
