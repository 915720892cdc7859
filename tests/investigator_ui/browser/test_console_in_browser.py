"""The console in Chromium: each role's pages, a ring opened, a node expanded by clicking
it in the graph, every report format downloaded, masked and clear values."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

from api.roles import Role
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
        with page.expect_download() as caught:
            page.get_by_role("button", name=fmt.upper(), exact=True).click()
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
    "Review queue": "No open cases.",
    "Application": "Linked entities",
    "Graph explorer": "Node (Label:key)",
    "Search": "Value",
    "Rings": "Shared identifiers",
    "Dealers": "Sales agents",
    "Portfolio": "Rates by graph (ring) risk",
    "Model": re.compile("No model is registered yet|Champion"),
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
        world.shot(page, f"admin-{title.lower().replace(' ', '-')}")
