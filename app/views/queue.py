"""Queue (staff): the explained ranking of the incoming cases under the current policy."""

from __future__ import annotations

import _data
import pandas as pd
import streamlit as st
from _ui import (
    current_role,
    export_buttons,
    kept_multiselect,
    kept_selectbox,
    kept_text_input,
    plain,
    plural,
    simulated_banner,
)

from triage.allocate import decision_words, split_reason
from triage.audit import redact
from triage.registry import STATUSES
from triage.schema import GENDERS, UN_REGIONS, VIOLATIONS, countries, label, split_codes

PAGE_SIZE = 25
#: Bands of the chance of selection (share of the model's replicates that select the case).
CHANCES = {
    "all": "All",
    "always": "Selected under every plausible model",
    "borderline": "Borderline (25–75%)",
    "never": "Left out under every plausible model",
}
SORTS = {
    "score": "Score, highest first",
    "p_selected": "Chance of selection, highest first",
    "borderline": "Most borderline first (chance nearest 50%)",
    "score_to_enter": "Closest to the cut-off first",
    "received_date": "Received, oldest first",
    "country": "Country, A to Z",
}

st.title("Queue")
simulated_banner(_data.is_simulated())

queue = _data.scored_queue()
policy_path = _data.current_policy_path()
policy = _data.load_policy(policy_path)
# The precomputed first page holds the policy's decisions: no solve on the first load.
stored = _data.stored_selection(policy)
if stored is not None:
    chosen = set(stored.loc[stored["selected"], "case_id"])
    n_candidates = len(stored)
else:
    allocation = _data.selection(policy)
    chosen, n_candidates = set(allocation.selected), int(allocation.n_candidates)
st.caption(
    f"Incoming cases scored by model **{_data.model_version()}** and selected under policy "
    f"**{plain(policy.name)}** ({policy_path.name}, capacity {policy.capacity}): "
    f"{len(chosen):,} of {plural(n_candidates, 'candidate')} are selected."
)

candidate = queue["case_id"].isin(_data.candidates()["case_id"])
table = queue.assign(
    selected=[
        cid in chosen if c else None for cid, c in zip(queue["case_id"], candidate, strict=True)
    ]
)
country_codes = sorted(
    table["country"].dropna().unique(), key=lambda c: countries()[c].name if c in countries() else c
)

role = current_role()
with st.container(border=True):
    search = kept_text_input(
        "Search the whole queue",
        key="q_search",
        placeholder="Case id or country"
        + (", or the defender's name (staff only)" if role == "staff" else ""),
        help="Matches any part of the case id or the country's name"
        + (
            "; staff may also search by the defender's name, which stays hidden in the list"
            if role == "staff"
            else ""
        ),
    )
    c1, c2, c3, c4, c5 = st.columns(5)
    regions = kept_multiselect("Region", list(UN_REGIONS), key="q_region", container=c1)
    chosen_countries = kept_multiselect(
        "Country",
        country_codes,
        key="q_country",
        format_func=lambda c: countries()[c].name if c in countries() else c,
        container=c2,
    )
    genders = kept_multiselect("Gender", list(GENDERS), key="q_gender", container=c3)
    violations = kept_multiselect("Violation", list(VIOLATIONS), key="q_violation", container=c4)
    statuses = kept_multiselect(
        "Status", list(STATUSES), key="q_status", format_func=lambda s: STATUSES[s], container=c5
    )
    s1, s2, s3 = st.columns([2, 2, 2])
    sort = kept_selectbox(
        "Sort by", list(SORTS), key="q_sort", format_func=SORTS.__getitem__, container=s1
    )
    decision = kept_selectbox(
        "Policy decision",
        ["all", "selected", "not_selected"],
        key="q_decision",
        format_func={
            "all": "All",
            "selected": "Selected by the policy",
            "not_selected": "Not selected",
        }.__getitem__,
        container=s2,
    )
    chance_filter = kept_selectbox(
        "Chance of selection",
        list(CHANCES),
        key="q_chance",
        format_func=CHANCES.__getitem__,
        container=s3,
    )

mask = pd.Series(True, index=table.index)
if search.strip():
    needle = search.strip().casefold()
    names = table["country"].map(lambda c: countries()[c].name if c in countries() else str(c))
    hit = table["case_id"].astype(str).str.casefold().str.contains(needle, regex=False)
    hit |= names.str.casefold().str.contains(needle, regex=False)
    hit |= table["country"].astype(str).str.casefold() == needle
    if role == "staff" and "defender_name" in table.columns:
        hit |= (
            table["defender_name"]
            .fillna("")
            .astype(str)
            .str.casefold()
            .str.contains(needle, regex=False)
        )
    mask &= hit
if regions:
    mask &= table["un_region"].isin(regions)
if chosen_countries:
    mask &= table["country"].isin(chosen_countries)
if genders:
    mask &= table["gender"].isin(genders)
if violations:
    wanted = set(violations)
    mask &= table["violations"].map(lambda v: bool(wanted & set(split_codes(v))))
if statuses:
    mask &= table["status"].isin(statuses)
if decision != "all":
    mask &= table["selected"].fillna(False).astype(bool) == (decision == "selected")
if chance_filter != "all" or sort in ("p_selected", "borderline"):
    chance = table[["case_id"]].merge(
        _data.selection_reasons(policy)[["case_id", "p_selected"]], on="case_id", how="left"
    )["p_selected"]
    table = table.assign(p_selected=chance.to_numpy())
    p = table["p_selected"]
    if chance_filter == "always":
        mask &= p == 1
    elif chance_filter == "never":
        mask &= p == 0
    elif chance_filter == "borderline":
        mask &= (p >= 0.25) & (p <= 0.75)
shown = table[mask]
ascending = {
    "score": False,
    "p_selected": False,
    "borderline": True,
    "score_to_enter": True,
    "received_date": True,
    "country": True,
}[sort]
if sort == "borderline":
    shown = shown.assign(_gap=(shown["p_selected"] - 0.5).abs()).sort_values(
        ["_gap", "case_id"], kind="stable", na_position="last"
    )
elif sort == "p_selected":
    shown = shown.sort_values(
        ["p_selected", "score", "case_id"],
        ascending=[False, False, True],
        kind="stable",
        na_position="last",
    )
elif sort == "score_to_enter":
    why = _data.selection_reasons(policy)[["case_id", "score_to_enter"]]
    shown = shown.merge(why, on="case_id", how="left")
    shown = shown.assign(_gap=(shown["score"] - shown["score_to_enter"]).abs()).sort_values(
        ["_gap", "case_id"], kind="stable"
    )
elif sort == "country":
    names = shown["country"].map(lambda c: countries()[c].name if c in countries() else str(c))
    shown = shown.assign(_name=names).sort_values(["_name", "case_id"], kind="stable")
else:
    shown = shown.sort_values([sort, "case_id"], ascending=[ascending, True], kind="stable")

n_pages = max(1, -(-len(shown) // PAGE_SIZE))
if st.session_state.get("q_page", 1) > n_pages:
    st.session_state["q_page"] = n_pages
p1, p2 = st.columns([1, 3])
page = p1.number_input(
    f"Page (of {n_pages})", 1, n_pages, 1, key="q_page", help=f"{PAGE_SIZE} cases per page"
)
p2.markdown(
    f"**{len(shown):,}** of {plural(len(table), 'case')} "
    f"{'matches' if len(shown) == 1 else 'match'} the filters: page {page} of {n_pages}."
)
visible = shown.iloc[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]

view = redact(visible, role, view="list")
overridden = _data.effective_overrides()
COLUMNS = {
    "Top reasons": st.column_config.TextColumn(
        "Top reasons", width="large", help="The three largest SHAP contributions, in words"
    ),
    "Why": st.column_config.TextColumn(
        "Why (policy)", width="large", help="Why the current policy selects the case or not"
    ),
    "Score": st.column_config.NumberColumn(
        "Score (%)", format="%.1f", help="Estimated probability of improvement within a year"
    ),
    "Interval": st.column_config.TextColumn("Interval (90%)", help="Uncertainty of the score"),
    "Chance": st.column_config.NumberColumn(
        "Chance of selection (%)",
        format="%.0f",
        help="Share of the model's plausible versions (bootstrap replicates, each refitted on a "
        "resample of past outcomes) under which the current policy selects the case",
    ),
    "Chance in words": st.column_config.TextColumn("Chance in words", width="medium"),
    "Score to enter": st.column_config.TextColumn(
        "Score to enter",
        help="The score this case would need to be selected (to stay selected, when it is)",
    ),
    "Constraints": st.column_config.TextColumn(
        "Constraints (auditors)", width="medium", help="The exact constraint names in the reason"
    ),
}


def _percent(value: object) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value):.1%}"  # type: ignore[arg-type]


def _decision(case_id: str, selected: object) -> str:
    if case_id in overridden:
        o = overridden[case_id]
        return ("✔ Taken up" if o["action"] == "select" else "✘ Not taken up") + " (override)"
    if selected is None or pd.isna(selected):  # type: ignore[arg-type]
        return "– not a candidate"
    return "✔ Selected" if bool(selected) else "✘ Not selected"


def _why(case_id: str, reason: object) -> str:
    words, _ = split_reason(reason)
    if case_id in overridden:
        return f"{decision_words(None, overridden[case_id])}. The policy: {words}"
    return words


def _display(reasons: pd.Series | None, why: pd.DataFrame | None) -> pd.DataFrame:
    """The table as shown; reasons and policy explanations read "…" until computed."""
    explained = view[["case_id"]].merge(why, on="case_id", how="left") if why is not None else None
    return pd.DataFrame(
        {
            "Case": view["case_id"],
            "Score": view["score"] * 100,
            "Interval": [
                f"{lo * 100:.0f}–{hi * 100:.0f}%"
                for lo, hi in zip(view["lower"], view["upper"], strict=True)
            ],
            "Top reasons": view["case_id"].map(reasons).fillna("") if reasons is not None else "…",
            "Policy": [
                _decision(c, v) for c, v in zip(view["case_id"], view["selected"], strict=True)
            ],
            "Chance": explained["p_selected"].to_numpy() * 100
            if explained is not None
            else float("nan"),
            "Chance in words": explained["chance"].fillna("–").to_numpy()
            if explained is not None
            else "…",
            "Why": [_why(c, r) for c, r in zip(view["case_id"], explained["reason"], strict=True)]
            if explained is not None
            else "…",
            "Score to enter": explained["score_to_enter"].map(_percent).to_numpy()
            if explained is not None
            else "…",
            **(
                {
                    "Constraints": [split_reason(r)[1] for r in explained["reason"]]
                    if explained is not None
                    else "…"
                }
                if role == "auditor"
                else {}
            ),
            "Country": view["country"].map(
                lambda c: countries()[c].name if c in countries() else c
            ),
            "Region": view["un_region"].map(label),
            "Gender": view["gender"].map(label),
            "Violations": view["violations"].map(
                lambda v: ", ".join(label(c) for c in split_codes(v))
            ),
            "Status": view["status"].map(lambda s: STATUSES.get(s, s)),
            "Received": view["received_date"].dt.date,
        },
        index=view.index,
    )


#: Pixels per row: three lines, so the reasons and the policy's words wrap instead of being cut
#: at a laptop's width (the grid wraps text only in rows taller than 4rem).
ROW_HEIGHT = 78
height = min(36 + ROW_HEIGHT * len(view) + 4, 1600)
slot = st.empty()
if not st.session_state.get("_q_warm") and not _data.reasons_stored(
    visible["case_id"].tolist(), policy
):
    # First visit of the session, nothing precomputed: show scores and decisions at once;
    # SHAP reasons and the policy's explanations (seconds when not cached) fill in below.
    slot.dataframe(
        _display(None, None),
        hide_index=True,
        height=height,
        row_height=ROW_HEIGHT,
        column_config=COLUMNS,
    )
top = _data.reasons(visible["case_id"].tolist())
top_text = top.sort_values(["case_id", "rank"]).groupby("case_id")["text"].agg("; ".join)
display = _display(top_text, _data.selection_reasons(policy))
event = slot.dataframe(
    display,
    hide_index=True,
    key="q_table",
    on_select="rerun",
    selection_mode="single-row",
    height=height,
    row_height=ROW_HEIGHT,
    column_config=COLUMNS,
)
st.session_state["_q_warm"] = True
st.caption("Click a row to open the case.")
rows = event.selection.rows if event is not None else []
if rows:
    st.switch_page("views/case.py", query_params={"case": display.iloc[rows[0]]["Case"]})

# The whole filtered queue (every page), formula-safe; names never leave in a file
# (triage.audit.export_frame drops them for every role that may not see them in a list).
export = shown.merge(
    _data.selection_reasons(policy)[["case_id", "reason", "score_to_enter"]],
    on="case_id",
    how="left",
    suffixes=("", "_why"),
)
export = pd.DataFrame(
    {
        "case_id": export["case_id"],
        "decision": [
            _decision(c, v) for c, v in zip(export["case_id"], export["selected"], strict=True)
        ],
        "reason": [_why(c, r) for c, r in zip(export["case_id"], export["reason"], strict=True)],
        "score": export["score"].round(4),
        "lower": export["lower"].round(4),
        "upper": export["upper"].round(4),
        "score_to_enter": export[
            "score_to_enter" if "score_to_enter" in export else "score_to_enter_why"
        ].round(4),
        "country": export["country"],
        "country_name": export["country"].map(
            lambda c: countries()[c].name if c in countries() else c
        ),
        "un_region": export["un_region"],
        "gender": export["gender"],
        "violations": export["violations"],
        "status": export["status"].map(lambda s: STATUSES.get(s, s)),
        "received_date": export["received_date"].dt.strftime("%Y-%m-%d"),
    }
)
simulated = _data.is_simulated()
e1, e2, _ = st.columns([1, 1, 3])
export_buttons(
    (e1, e2),
    export,
    role=role,
    simulated=simulated,
    stem="queue",
    labels=(f"CSV ({plural(len(export), 'case')})", f"XLSX ({plural(len(export), 'case')})"),
    key="q",
    icon=":material/download:",
)

with st.form("open_case"):
    c1, c2 = st.columns([3, 1])
    case_id = c1.selectbox("Open a case by its id", list(visible["case_id"]), key="q_open_id")
    if c2.form_submit_button("Open case") and case_id:
        st.switch_page("views/case.py", query_params={"case": case_id})
