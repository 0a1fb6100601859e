"""Shared rendering for every page: group colours, labels, the simulated-data banner and widgets
whose values survive a page reload (mirrored into ``st.query_params``).

Holds no decision logic: everything shown is computed by ``triage``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, Required, TypedDict, Unpack

import streamlit as st

from triage.schema import GENDERS, OUTCOMES, REPLY_CLASSES, UN_REGIONS, VIOLATIONS, label

if TYPE_CHECKING:
    import altair as alt

__all__ = [
    "GENDER_COLOURS",
    "NEUTRAL",
    "OUTCOME_COLOURS",
    "REGION_COLOURS",
    "REPLY_COLOURS",
    "ROLE_HOME",
    "SELECTED_COLOURS",
    "Role",
    "colour_scale",
    "current_auth",
    "current_role",
    "current_user",
    "export_buttons",
    "kept_multiselect",
    "kept_selectbox",
    "kept_text_input",
    "plain",
    "plural",
    "role_label",
    "safe_table",
    "simulated_banner",
    "working",
]

#: Seconds an update may take before a "working" sign shows (shorter ones would only flicker).
WORKING_DELAY = 0.3

Role = Literal["staff", "mandate_holder", "auditor"]

#: One colour per UN regional group on every page (Okabe-Ito, safe for colour-blind readers).
REGION_COLOURS: Mapping[str, str] = {
    "african": "#E69F00",
    "asia_pacific": "#56B4E9",
    "eastern_european": "#009E73",
    "latin_american_caribbean": "#CC79A7",
    "weog": "#0072B2",
}
GENDER_COLOURS: Mapping[str, str] = {"woman": "#D55E00", "man": "#0072B2", "unknown": "#999999"}
#: Diverging: greens improve, greys stay, reds worsen.
OUTCOME_COLOURS: Mapping[str, str] = {
    "much_better": "#1a9850",
    "somewhat_better": "#91cf60",
    "same": "#bdbdbd",
    "mixed": "#fee08b",
    "somewhat_worse": "#fc8d59",
    "much_worse": "#d73027",
}
REPLY_COLOURS: Mapping[str, str] = {
    "none": "#bdbdbd",
    "immaterial": "#fee08b",
    "rejection": "#d73027",
    "no_rejection": "#1a9850",
    "content_unknown": "#969696",
}
SELECTED_COLOURS: Mapping[str, str] = {"selected": "#0072B2", "not selected": "#bdbdbd"}
#: A single neutral colour for charts of one series (violations, issue areas).
NEUTRAL = "#4d4d4d"

_VOCABS: Mapping[str, Mapping[str, str]] = {
    "un_region": UN_REGIONS,
    "gender": GENDERS,
    "outcome": OUTCOMES,
    "reply_class": REPLY_CLASSES,
    "violation": VIOLATIONS,
}
_COLOURS: Mapping[str, Mapping[str, str]] = {
    "un_region": REGION_COLOURS,
    "gender": GENDER_COLOURS,
    "outcome": OUTCOME_COLOURS,
    "reply_class": REPLY_COLOURS,
    "status": SELECTED_COLOURS,
}

#: The page each role opens on.
ROLE_HOME: Mapping[str, str] = {"staff": "queue", "mandate_holder": "targets", "auditor": "audit"}

_ROLE_LABELS: Mapping[str, str] = {
    "staff": "Triage officer (OHCHR staff)",
    "mandate_holder": "Mandate-holder",
    "auditor": "Auditor",
}


def role_label(role: str) -> str:
    """Return the human name of a role code."""
    return _ROLE_LABELS.get(role, role)


def colour_scale(group: str, *, labelled: bool = True) -> alt.Scale:
    """Return the Altair colour scale of a grouping column, identical on every page.

    With ``labelled=True`` the domain is the human labels (charts show labels, not codes).
    """
    colours = _COLOURS[group]
    codes = list(colours)
    domain = [label(c) for c in codes] if labelled and group in _VOCABS else codes
    import altair as alt  # only chart pages pay for the import (the Queue page draws none)

    return alt.Scale(domain=domain, range=[colours[c] for c in codes])


def simulated_banner(simulated: bool) -> None:
    """Show, on every page, whether the figures come from simulated data."""
    if simulated:
        st.warning(
            "**Simulated data.** Every case, name, country figure and outcome on this page comes "
            "from a seeded simulation calibrated to the published aggregates of *Chasing Shadows* "
            "(Spannagel 2018). They are not real cases.",
            icon=":material/science:",
        )


def current_role() -> Role:
    """Return the role chosen at the gate (``staff`` before anyone chose)."""
    role = st.session_state.get("auth_role", "staff")
    return role if role in _ROLE_LABELS else "staff"  # type: ignore[return-value]


def current_user() -> str:
    """Return the user name chosen at the gate."""
    return str(st.session_state.get("auth_user", "demo"))


def current_auth() -> str:
    """Return how the user signed in: ``demo``, ``password`` or ``token`` (stored in records)."""
    if st.session_state.get("auth_demo", True):
        return "demo"
    return str(st.session_state.get("auth_method", "password"))


_MD_SPECIAL = set("\\`*_{}[]()#+!|<>~:$&.")


def plain(text: object) -> str:
    """Return user-supplied ``text`` escaped for ``st.markdown``: no markdown, no HTML, no links."""
    value = " ".join(str(text).split())
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in value)


def safe_table(frame: Any) -> Any:
    """Return ``frame`` made formula-safe for the table's built-in CSV download (every dtype)."""
    from triage.audit import safe_frame

    return safe_frame(frame)


def _restore(key: str, default: Any, parse: Callable[[list[str]], Any]) -> None:
    """Give a widget its value from session state, else from the URL, else the default.

    Streamlit forgets a widget's state when its page is not shown, so every kept widget also
    writes its value to ``_keep_<key>``; the URL copy survives a browser reload.
    """
    if key in st.session_state:
        return
    keep = f"_keep_{key}"
    if keep in st.session_state:
        st.session_state[key] = st.session_state[keep]
        return
    raw = st.query_params.get_all(key)
    st.session_state[key] = parse(raw) if raw else default


def _mirror(key: str, value: Any) -> None:
    st.session_state[f"_keep_{key}"] = value
    if value is None or value == [] or value == "":
        if key in st.query_params:
            del st.query_params[key]
    elif isinstance(value, list):
        st.query_params[key] = [str(v) for v in value]
    else:
        st.query_params[key] = str(value)


class _Kept(TypedDict, total=False):
    """How a kept choice widget is drawn: its key (required), labels, help and container."""

    key: Required[str]
    format_func: Callable[[str], str]
    help: str | None
    container: Any


def _choice(
    kind: Literal["multiselect", "selectbox"], text: str, allowed: list[str], how: _Kept
) -> Any:
    where = how.get("container")
    where = st if where is None else where
    draw = where.multiselect if kind == "multiselect" else where.selectbox
    key = how["key"]
    value = draw(
        text, allowed, key=key, format_func=how.get("format_func", label), help=how.get("help")
    )
    _mirror(key, list(value) if kind == "multiselect" else value)
    return value


def kept_multiselect(text: str, options: Sequence[str], **how: Unpack[_Kept]) -> list[str]:
    """A multiselect whose choice is kept across pages and reloads (``?key=a&key=b``).

    ``how``: ``key`` (required), ``format_func`` (default ``label``), ``help``, ``container``.
    """
    allowed, key = list(options), how["key"]
    _restore(key, [], lambda raw: [v for v in raw if v in allowed])
    st.session_state[key] = [v for v in st.session_state[key] if v in allowed]
    return list(_choice("multiselect", text, allowed, how))


def kept_selectbox(text: str, options: Sequence[str], **how: Unpack[_Kept]) -> str:
    """A selectbox whose choice is kept across pages and reloads (``?key=value``).

    ``how``: ``key`` (required), ``format_func`` (default ``label``), ``help``, ``container``.
    """
    allowed, key = list(options), how["key"]
    _restore(key, allowed[0], lambda raw: raw[-1] if raw[-1] in allowed else allowed[0])
    if st.session_state[key] not in allowed:
        st.session_state[key] = allowed[0]
    return str(_choice("selectbox", text, allowed, how))


def kept_text_input(
    text: str,
    *,
    key: str,
    placeholder: str | None = None,
    help: str | None = None,
    container: Any = None,
) -> str:
    """A text input whose value is kept across pages and reloads (``?key=value``)."""
    _restore(key, "", lambda raw: raw[-1])
    where = container if container is not None else st
    value = where.text_input(text, key=key, placeholder=placeholder, help=help)
    _mirror(key, value)
    return str(value)


_XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_buttons(
    columns: Sequence[Any],
    export: Any,
    *,
    role: Role,
    simulated: bool,
    stem: str,
    labels: tuple[str, str],
    key: str,
    icon: str | None = None,
) -> None:
    """Draw the CSV and XLSX download buttons of a table, in two given columns.

    The files are built only when asked for (deferred): writing XLSX takes most of a second.
    The buttons are keyed ``{key}_csv`` and ``{key}_xlsx`` and save ``{stem}.csv`` and
    ``{stem}.xlsx``.
    """
    from triage.audit import export_csv, export_xlsx

    kinds = (("csv", export_csv, "text/csv"), ("xlsx", export_xlsx, _XLSX_MIME))
    for column, text, (ext, write, mime) in zip(columns, labels, kinds, strict=True):
        column.download_button(
            text,
            partial(write, export, role=role, simulated=simulated),
            f"{stem}.{ext}",
            mime,
            key=f"{key}_{ext}",
            icon=icon,
        )


def plural(n: int, one: str, many: str | None = None) -> str:
    """Return ``n`` and its noun, pluralised: "1 case", "2 cases", "1,650 cases"."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


@contextmanager
def working(text: str, *, slot: Any = None, delay: float = WORKING_DELAY) -> Iterator[None]:
    """Show ``text`` with an hourglass in ``slot`` (default: here) while the block runs longer
    than ``delay`` seconds; remove it when the block ends. The figures on screen stay until the
    new ones replace them, so the sign says they are about to change."""
    from streamlit.runtime.scriptrunner import add_script_run_ctx

    place = slot if slot is not None else st.empty()
    lock, state = threading.Lock(), {"open": True, "shown": False}

    def show() -> None:
        with lock:
            if state["open"]:
                place.info(text, icon=":material/hourglass_top:")
                state["shown"] = True

    timer = threading.Timer(delay, show)
    add_script_run_ctx(timer)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:
            state["open"] = False
            if state["shown"]:
                place.empty()
