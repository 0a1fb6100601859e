"""triage: the Streamlit app for triage officers, mandate-holders and auditors.

Run with ``make demo`` (or ``streamlit run app/streamlit_app.py``). The app renders what
``triage`` computes from the registry, the default model and the default policy; it holds no
decision logic of its own.
"""

from __future__ import annotations

from pathlib import Path

import _data
import _warm
import streamlit as st
from _ui import ROLE_HOME, current_role, current_user, kept_selectbox, plain, role_label

from triage.audit import ROLES, authenticate, open_demo_mode, resolve_session
from triage.audit._users import check_display_name
from triage.errors import TriageError

HERE = Path(__file__).parent

# A file of our own: a Material icon as the favicon is fetched from Google's font servers.
st.set_page_config(
    page_title="triage", page_icon=str(HERE / "assets" / "favicon.png"), layout="wide"
)


def _enter(user: str, role: str, *, demo: bool, method: str = "demo") -> None:
    st.session_state["auth_user"] = user
    st.session_state["auth_role"] = role
    st.session_state["auth_demo"] = demo
    st.session_state["auth_method"] = "demo" if demo else method
    if demo:
        # Open demo only: the role rides in the URL so a reload keeps it (no secret is involved).
        st.query_params["as"] = role


def _sign_out() -> None:
    for key in ("auth_user", "auth_role", "auth_demo", "auth_method"):
        st.session_state.pop(key, None)
    if "as" in st.query_params:
        del st.query_params["as"]


def gate() -> None:
    """Sign in, or in open demo mode choose the role to act as."""
    if "auth_role" in st.session_state:  # already signed in: go to the role's page
        _home()
    st.title("triage")
    st.caption(
        "Decision support for the UN Special Rapporteur on human rights defenders: which "
        "individual cases to take up, and why."
    )
    if open_demo_mode():
        st.info(
            "**Open demo mode**: there is no login on this installation (no users file). "
            "Anyone can act in any role. Create users with `triage user add` to require a login.",
            icon=":material/lock_open:",
        )
        with st.form("demo_gate"):
            role = st.radio(
                "Act as",
                ROLES,
                format_func=role_label,
                key="gate_role",
                help="Staff triage the queue, mandate-holders set targets, auditors review runs.",
            )
            user = st.text_input("Your name (recorded in the audit trail)", "demo", key="gate_user")
            if st.form_submit_button("Open the demo", type="primary"):
                try:
                    name = check_display_name(user.strip() or "demo", _data.registry())
                    # Open demo never acts as a user who exists (TRIAGE_OPEN_DEMO=1 with users).
                    session = resolve_session(name, role, None)
                except TriageError as exc:
                    st.error(exc.message)
                else:
                    _enter(session.user, session.role, demo=True)
                    st.rerun()
        return
    if st.session_state.pop("_demo_ended", False):
        st.warning("Users now exist on this installation: the open demo session ended. Sign in.")
    with st.form("login"):
        user = st.text_input("User", key="login_user")
        password = st.text_input("Password or token", type="password", key="login_password")
        if st.form_submit_button("Sign in", type="primary"):
            try:
                session = authenticate(user.strip(), password)
            except TriageError as exc:
                st.error(exc.message)
            else:
                _enter(session.user, session.role, demo=False, method=session.auth)
                st.rerun()


def _end_stale_demo_session() -> None:
    """Users were created since this open-demo session began: it ends at this interaction."""
    if st.session_state.get("auth_demo") and not open_demo_mode():
        _sign_out()
        st.session_state["_demo_ended"] = True


def _restore_demo_session() -> None:
    wanted = st.query_params.get("as")
    if "auth_role" not in st.session_state and wanted in ROLES and open_demo_mode():
        _enter("demo", wanted, demo=True)


_end_stale_demo_session()
_restore_demo_session()

_PAGES = {
    "queue": ("Queue", ":material/inbox:"),
    "case": ("Case", ":material/description:"),
    "targets": ("Targets", ":material/tune:"),
    "selection": ("Selection", ":material/checklist:"),
    "monitoring": ("Monitoring", ":material/public:"),
    "audit": ("Audit", ":material/fact_check:"),
}


def _page(name: str) -> st.Page:
    title, icon = _PAGES[name]
    return st.Page(HERE / "views" / f"{name}.py", title=title, icon=icon, url_path=name)


def _home() -> None:
    """The root URL: send each role to its own page, keeping the URL's parameters."""
    # get_all: a filter can hold several values (?q_region=a&q_region=b); to_dict keeps one.
    params = {key: st.query_params.get_all(key) for key in st.query_params}
    st.switch_page(HERE / "views" / f"{ROLE_HOME[current_role()]}.py", query_params=params)


signed_in = "auth_role" in st.session_state
# Every page is registered even before sign-in, so a bookmarked URL (/targets?q=…) survives
# the gate. Streamlit serves the default page only at "/", so the default is a hidden page
# that forwards each role to its own page; every real page keeps its own URL.
nav = st.navigation(
    {
        "": [
            st.Page(_home, title="Home", url_path="home", default=True, visibility="hidden"),
            st.Page(gate, title="Sign in", url_path="signin", visibility="hidden"),
        ],
        "Cases": [_page("queue"), _page("case")],
        "Policy": [_page("targets"), _page("selection")],
        "Oversight": [_page("monitoring"), _page("audit")],
    },
    position="sidebar" if signed_in else "hidden",
)
if not signed_in:
    gate()
else:
    role = current_role()
    if st.session_state.get("auth_demo") and st.query_params.get("as") != role:
        # Sidebar navigation clears the URL's parameters: put the role back, so a reload or a
        # copied link (a case, a filtered queue) opens as the same role instead of the gate.
        st.query_params["as"] = role
    with st.sidebar:
        options = _data.policy_options()
        if "_pending_policy" in st.session_state:  # a version just saved on Targets
            st.session_state["policy"] = st.session_state.pop("_pending_policy")
        if options:
            kept_selectbox(
                "Policy",
                list(options),
                key="policy",
                format_func=str,
                help="The balance policy every page selects under; Targets edits it.",
            )
        if st.session_state.get("_t_unsaved") and role != "auditor" and nav.url_path != "targets":
            st.warning(
                "**Unsaved targets.** Your changes on Targets are kept for this session only. "
                "Open Targets and use *Save as a new policy version* to keep them.",
                icon=":material/edit_note:",
            )
            st.page_link(HERE / "views" / "targets.py", label="Back to Targets")
        st.markdown(f"**{plain(current_user())}** · {role_label(role)}")
        if st.session_state.get("auth_demo"):
            st.caption("Open demo mode: no login.")
        st.button("Switch role / sign out", key="sign_out", on_click=_sign_out)
    try:
        nav.run()
        # After the page has drawn: the warm-up thread then never competes with it.
        _warm.warm_up()
    except TriageError as exc:
        # A problem the user can act on (no model trained, registry not loaded...): say what
        # to do instead of showing a traceback.
        st.error(exc.message, icon=":material/error:")
        st.caption(
            "`make demo` prepares the registry and the model; `triage --help` lists the commands."
        )
