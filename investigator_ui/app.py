"""Entry point: ``streamlit run investigator_ui/app.py``.

Routing is ``st.navigation``: signed out, the only page is Sign in; signed in, the pages
the role may use (declared in ``PAGES`` against ``api.roles`` permissions, so the console
and the API read one definition). Hiding a page is a convenience only: the API refuses
whatever the role may not do.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

# `streamlit run` puts this folder, not the repository, on sys.path; the editable install
# predates this package, so make `investigator_ui` and `api` importable either way.
_REPO = Path(__file__).resolve().parent.parent
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

import streamlit as st  # noqa: E402

from api.roles import Permission  # noqa: E402
from investigator_ui import session  # noqa: E402
from investigator_ui.i18n import LANG_KEY, LANGUAGES  # noqa: E402

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class PageSpec:
    """A console page: its script, title key and the permission that shows it."""

    script: str
    title: str
    permission: Permission
    icon: str


PAGES: tuple[PageSpec, ...] = (
    PageSpec("views/queue.py", "page_queue", Permission.WORK_CASES, ":material/inbox:"),
    PageSpec("views/application.py", "page_application", Permission.READ_APPLICATION,
             ":material/description:"),
    PageSpec("views/graph.py", "page_graph", Permission.EXPLORE_GRAPH, ":material/share:"),
    PageSpec("views/search.py", "page_search", Permission.LOOKUP_ENTITY, ":material/search:"),
    PageSpec("views/rings.py", "page_rings", Permission.READ_RINGS, ":material/hub:"),
    PageSpec("views/dealers.py", "page_dealers", Permission.READ_RINGS, ":material/store:"),
    PageSpec("views/portfolio.py", "page_portfolio", Permission.READ_PORTFOLIO,
             ":material/bar_chart:"),
    PageSpec("views/model.py", "page_model", Permission.READ_MODEL, ":material/model_training:"),
)


def visible_pages() -> list[PageSpec]:
    """The pages the signed-in role may use, in menu order."""
    return [spec for spec in PAGES if session.can(spec.permission)]


def _sidebar() -> None:
    with st.sidebar:
        st.selectbox(session.tr("language"), list(LANGUAGES), key=LANG_KEY,
                     format_func=LANGUAGES.__getitem__)
        signed = session.user()
        if signed is not None:
            st.caption(session.tr("signed_in_as", username=signed.username, role=signed.role))
            st.button(session.tr("sign_out"), key="sign_out", on_click=session.sign_out)


def main() -> None:
    st.set_page_config(page_title="fraudgraph", layout="wide")
    session.init_state()
    _sidebar()
    if session.user() is None:
        pages = [st.Page(str(HERE / "views/sign_in.py"), title=session.tr("page_sign_in"),
                         icon=":material/login:", url_path="sign_in")]
    else:
        pages = [st.Page(str(HERE / spec.script), title=session.tr(spec.title), icon=spec.icon,
                         url_path=Path(spec.script).stem) for spec in visible_pages()]
    st.navigation(pages).run()


main()
