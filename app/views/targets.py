"""Targets (mandate-holders): capacity and balance bands, re-solved live, priced and saved."""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Mapping

import _data
import _live
import altair as alt
import pandas as pd
import streamlit as st
from _charts import percent
from _ui import current_role, current_user, plain, plural, simulated_banner, working

from triage.allocate import (
    BandChange,
    Bound,
    Policy,
    changed_cases,
    partition_relaxation,
    plain_price_table,
    relaxation_changes,
)
from triage.audit._roles import allowed
from triage.errors import TriageError
from triage.schema import GENDERS, UN_REGIONS, VIOLATIONS, label

DIMENSIONS: Mapping[str, Mapping[str, str]] = {
    "un_region": UN_REGIONS,
    "gender": GENDERS,
    "violations": VIOLATIONS,
}
DIM_TITLES: Mapping[str, str] = {
    "un_region": "UN regional groups",
    "gender": "Gender",
    "violations": "Violations",
}

#: Lists up to this long are drawn as static tables (they wrap; longer ones scroll).
_TABLE_ROWS = 40
#: Seconds a change waits for a following one before solving (a key held on a slider).
_SETTLE = 0.08

st.title("Targets")
history = _data.history()
simulated_banner(history.simulated)

start_path = _data.current_policy_path()
start = _data.load_policy(start_path)
# A version saved in this session is compared with the policy it came from (its parent), so
# the diff and the cases entering and leaving stay on screen after saving.
parent_text = st.session_state.get("_t_parents", {}).get(start.sha256)
parent = Policy.from_toml(parent_text) if parent_text else None
reference = parent if parent is not None else start
st.caption(
    f"Starting from policy **{plain(start.name)}** ({start_path.name}; content hash sha256 "
    f"{start.sha256[:12]}, the hash of its canonical text, shown on every page)"
    + (f", saved from **{plain(parent.name)}** in this session" if parent is not None else "")
    + ". Choose another in the sidebar."
)
cands = _data.candidates()
if cands.empty:
    st.info("No case awaits a decision: there is nothing to select.")
    st.stop()

# A new starting policy resets the sliders to its values. Otherwise the targets being edited
# survive a visit to another page: Streamlit forgets a widget's value when its page is not
# shown, so every value is also kept in ``_keep_t`` and put back here.
if st.session_state.get("_t_loaded") != start.sha256:
    for key in [k for k in st.session_state if str(k).startswith("t_")]:
        del st.session_state[key]
    st.session_state.pop("_keep_t", None)
    st.session_state["_t_loaded"] = start.sha256
for key, value in st.session_state.get("_keep_t", {}).items():
    if key not in st.session_state:
        st.session_state[key] = value


def _change_words(change: float, reference: str) -> str:
    """The change in expected improvements against the reference policy, never "-0.0"."""
    digits = 1 if abs(change) >= 0.1 else 2
    return f"{change:+.{digits}f} vs {plain(reference)}"


def _moved(key: str) -> None:
    st.session_state["_t_last_moved"] = key


def _band_key(dim: str, code: str) -> str:
    return f"t_band__{dim}__{code}"


def _initial(key: str, value: object) -> None:
    if key not in st.session_state:
        st.session_state[key] = value


def _apply(changes: list[BandChange]) -> None:
    """Write a relaxation into the controls (a button's callback)."""
    for c in changes:
        if c.dimension == "max_per_country":
            st.session_state["t_max_country"] = int(c.to)
            continue
        key = _band_key(c.dimension, c.code)
        lo, hi = st.session_state.get(key, (0, 100))
        st.session_state[key] = (int(c.to), hi) if c.side == "min" else (lo, int(c.to))
        st.session_state["_t_last_moved"] = key


def _preview(changes: list[BandChange], shares: dict[str, dict[str, Bound]]) -> dict:
    out = {d: dict(b) for d, b in shares.items()}
    for c in changes:
        if c.dimension == "max_per_country":
            continue
        old = out.setdefault(c.dimension, {}).get(c.code, Bound())
        value = c.to / 100
        out[c.dimension][c.code] = (
            Bound(min=value or None, max=old.max)
            if c.side == "min"
            else Bound(min=old.min, max=value if value < 1 else None)
        )
    return out


def _offer(changes: list[BandChange], *, key: str) -> None:
    """Say the smallest relaxation in words, with a button that applies it."""
    st.markdown(
        "**The smallest change that makes these targets possible:**\n"
        + "\n".join(f"- {c.words}" for c in changes)
    )
    st.button(
        "Apply this change",
        key=key,
        type="primary",
        on_click=_apply,
        args=(changes,),
        icon=":material/build:",
    )


left, right = st.columns([2, 3], gap="large")
with left:
    st.subheader("Capacity and bands")
    n = len(cands)
    _initial("t_capacity", min(start.capacity, max(n, start.capacity)))
    capacity = st.slider(
        "Capacity: cases to take up",
        min_value=1,
        max_value=max(n, start.capacity),
        key="t_capacity",
        on_change=_moved,
        args=("t_capacity",),
        help=f"{n} cases await a decision.",
    )
    _initial("t_max_country", int(start.max_per_country or 0))
    max_country = st.number_input(
        "At most this many cases per country (0 = no limit)",
        min_value=0,
        max_value=max(n, 1),
        key="t_max_country",
        on_change=_moved,
        args=("t_max_country",),
    )
    shares: dict[str, dict[str, Bound]] = {}
    for dim, vocab in DIMENSIONS.items():
        current = start.shares.get(dim, {})
        with st.expander(
            f"{DIM_TITLES[dim]}: share of the selected cases (%)", expanded=dim != "violations"
        ):
            for code in vocab:
                b = current.get(code, Bound())
                lo = round((b.min or 0.0) * 100)
                hi = round((b.max if b.max is not None else 1.0) * 100)
                _initial(_band_key(dim, code), (lo, hi))
                chosen = st.slider(
                    label(code),
                    0,
                    100,
                    step=1,
                    format="%d%%",
                    key=_band_key(dim, code),
                    on_change=_moved,
                    args=(_band_key(dim, code),),
                )
                new = Bound(
                    min=chosen[0] / 100 if chosen[0] > 0 else None,
                    max=chosen[1] / 100 if chosen[1] < 100 else None,
                )
                if new.min is not None or new.max is not None:
                    shares.setdefault(dim, {})[code] = new
st.session_state["_keep_t"] = {
    k: st.session_state[k] for k in st.session_state if str(k).startswith("t_band__")
} | {k: st.session_state[k] for k in ("t_capacity", "t_max_country") if k in st.session_state}

moved_key = re.fullmatch(r"t_band__(\w+?)__(\w+)", st.session_state.get("_t_last_moved") or "")
impossible = partition_relaxation(shares, moved_key.groups() if moved_key else None)
notice = right.container()  # filled once the solve says whether one change is enough
if impossible:
    shares = _preview(impossible, shares)

try:
    policy = start.with_changes(
        capacity=int(capacity),
        max_per_country=int(max_country) or None,
        shares=shares,
    )
except TriageError as exc:
    with right:
        st.warning(f"These targets cannot be written as a policy: {exc.message}")
    st.stop()

with right:
    st.subheader("Selection under these targets")
    sign = st.empty()
    # A key held down on a slider sends a change every few milliseconds: wait a moment, then
    # write (Streamlit stops this run there when a newer change is waiting, before any solve).
    time.sleep(_SETTLE)
    sign.empty()
    with working("Working: re-solving the selection under these targets…", slot=sign):
        try:
            baseline, allocation = _live.live_allocations(reference, policy)
        except (TriageError, ValueError) as exc:
            allocation = None
            st.warning(f"No selection: {getattr(exc, 'message', str(exc))}")
    if allocation is None:
        st.stop()
    if impossible:
        with notice:
            st.warning(
                "**These targets cannot all hold:** every case belongs to exactly one group, so "
                "the floors of one dimension cannot add up to more than 100% (nor its ceilings "
                "to less).",
                icon=":material/rule:",
            )
            if allocation.feasible:
                _offer(impossible, key="t_fix_partition")
                st.caption("Below: the selection as it would be with this change applied.")
    if not allocation.feasible:
        st.warning(
            "**No selection meets all these targets** with these candidates.",
            icon=":material/rule:",
        )
        fixes = impossible + relaxation_changes(allocation, policy)
        if fixes:
            _offer(fixes, key="t_fix_relax")
        else:
            st.markdown(
                "No change of the share bands or the country limit alone makes them possible: "
                "raise the capacity or widen several bands."
            )
        st.stop()
    else:
        objective = float(allocation.objective or 0.0)
        m1, m2, m3 = st.columns([0.8, 1.25, 1.0])
        m1.metric(
            "Cases selected",
            f"{len(allocation.selected)}",
            help=f"of {allocation.n_candidates:,} candidates",
        )
        change = objective - float(baseline.objective or 0)
        m2.metric(
            "Expected improvements",
            f"{objective:.1f}",
            # No change shows no delta at all: an arrow beside "no change" would read as one.
            delta=_change_words(change, reference.name)
            if baseline.feasible and abs(change) >= 0.005
            else None,
            help="Defenders' situations expected to improve within a year: the sum of the "
            "selected cases' scores",
        )
        # The new selection is on screen first; pricing re-solves without each target (most
        # of a second on the demo queue) and fills in after.
        price_slot = m3.empty()
        moves = changed_cases(cands, (reference, baseline), (policy, allocation))
        n_in = int((moves["Change"] == "enters").sum())
        n_out = int((moves["Change"] == "leaves").sum())
        st.markdown(
            f"Against policy **{plain(reference.name)}**: **{plural(n_in, 'case')}** would be "
            f"taken up in addition, **{n_out:,}** would no longer be taken up."
        )
        if current_role() == "auditor":
            st.caption(
                f"Solver {allocation.solver}, status {allocation.status}, gap {allocation.gap:.2%}."
            )
        with st.expander(
            f"Cases that enter or leave ({n_in + n_out})", expanded=0 < n_in + n_out <= 8
        ):
            shown = moves.rename(columns={"case_id": "Case"}).assign(
                Score=[f"{v:.1%}" for v in moves["Score"]]
            )
            if 0 < len(shown) <= _TABLE_ROWS:
                # A static table wraps its text: every column fits the half-screen column.
                st.table(shown.set_index("Case"))
            else:
                st.dataframe(
                    shown,
                    hide_index=True,
                    key="t_changes",
                    column_config={"Reason": st.column_config.TextColumn("Reason", width="large")},
                )

        # Pricing re-solves without each target and the trade-off curve re-solves at several
        # bounds: both run on a worker thread, so the new selection shows at once and they
        # fill in after (a "working" line says so meanwhile).
        prices = _live.prices_later(policy)
        if prices is None:
            price_slot.metric("What all targets cost", "…", help="Being computed")
        else:
            everything = prices[prices["name"] == "all targets"]
            total = float(everything["cost"].iloc[0]) if len(everything) else None
            price_slot.metric(
                "What all targets cost",
                "–" if total is None else f"{max(total, 0.0):.2f}",
                help="Defenders' situations expected to improve that selecting by score alone "
                "would add: what balancing the selection costs",
            )
            st.markdown(
                "**What each target costs**, in defenders' situations expected to improve "
                "within a year: how many more the selection would achieve without the target. "
                "A target at its limit says what asking it for one more case would cost."
            )
            table = plain_price_table(prices, policy)
            table = table.assign(
                Cost=[f"{c:.2f}" if c >= 0.005 else "none" for c in table["Cost"]]
            ).set_index("Target")
            free = table["What it means"].str.startswith("costs nothing")
            # Static tables wrap their text to the column's width: nothing runs off-screen.
            if (~free).any():
                st.table(table[~free])
            if free.any():
                with st.expander(f"{plural(int(free.sum()), 'target')} that cost nothing"):
                    st.table(table[free])

    curve = None
    if moved_key:
        dim, code = moved_key.groups()
        bound = policy.shares.get(dim, {}).get(code, Bound())
        side = "min" if bound.min is not None or bound.max is None else "max"
        curve = _live.tradeoff_later(policy, dim, code, side)
    if moved_key and curve is None:
        st.caption("Tracing the trade-off of the target being moved…")
    elif moved_key and curve is not None:
        now = (bound.min if side == "min" else bound.max) or 0.0
        verb = "Minimum" if side == "min" else "Maximum"
        st.altair_chart(
            (
                alt.Chart(curve)
                .mark_line(point=True)
                .encode(
                    x=percent(
                        "x", "share:Q", f"{verb} share of {label(code)} among the selected (%)"
                    ),
                    y=alt.Y(
                        "objective:Q",
                        title="Expected improvements",
                        scale=alt.Scale(zero=False),
                    ),
                    tooltip=[
                        alt.Tooltip("share:Q", title="Share", format=".0%"),
                        alt.Tooltip("target:Q", title="Cases"),
                        alt.Tooltip("objective:Q", title="Expected improvements", format=".2f"),
                        alt.Tooltip("objective_loss:Q", title="Loss", format=".2f"),
                    ],
                )
                + alt.Chart(pd.DataFrame({"share": [now]}))
                .mark_rule(strokeDash=[4, 4])
                .encode(x="share:Q")
            ).properties(
                title=f"Trade-off of the {'floor' if side == 'min' else 'ceiling'} for "
                f"{label(code)}",
                width="container",
                height=260,
            ),
            key="t_tradeoff",
        )
        st.caption("Dashed line: the value now. A missing point is a value no selection can meet.")
    else:
        st.caption("Move a band to see its trade-off curve.")
    if prices is None or (moved_key and curve is None):

        @st.fragment(run_every=0.6)
        def _working() -> None:
            # Polls the worker; when both are done, one full rerun draws them.
            done = _live.prices_later(policy) is not None
            if moved_key:
                done = done and _live.tradeoff_later(policy, dim, code, side) is not None
            if done:
                st.rerun()
            st.caption(":material/hourglass_top: Working: pricing each target…")

        _working()

    st.subheader("Save as a new policy version")
    diff = list(
        difflib.unified_diff(
            reference.to_toml().splitlines(),
            policy.to_toml().splitlines(),
            fromfile=f"{reference.name} (sha256 {reference.sha256[:12]})",
            tofile="these targets"
            if policy.to_toml() != start.to_toml()
            else f"{start.name} (sha256 {start.sha256[:12]})",
            lineterm="",
        )
    )
    unsaved = policy.to_toml() != start.to_toml()
    st.session_state["_t_unsaved"] = unsaved
    if "_t_saved" in st.session_state:
        st.success(
            f"Saved {st.session_state.pop('_t_saved')}: it is now the current policy "
            "(sidebar), for this session. The changes against the policy it came from:"
        )
    # The text and the form are drawn even before anything changed (the policy's own text, a
    # greyed button): the browser then loads their scripts with the page, not on the first change.
    if not diff:
        st.caption(
            f"The targets equal the starting policy: nothing to save. Its text "
            f"(sha256 {start.sha256[:12]}):"
        )
        st.code(start.to_toml(), language="toml", height=160, wrap_lines=True)
    else:
        st.code("\n".join(diff), language="diff", wrap_lines=True)
    if not allowed(current_role(), "save_policy"):
        st.caption("Auditors review policies but do not save them.")
    else:
        if unsaved:
            st.caption(
                "These targets are not saved: they stay while you visit other pages in this "
                "session, and are lost when the session ends."
            )
        with st.form("save_policy"):
            name = st.text_input(
                "Name of the new version", f"{start.name}-revised", key="t_save_name"
            )
            if not unsaved:
                st.caption("Nothing to save yet: move a target first.")
            if st.form_submit_button("Save policy version", type="primary", disabled=not unsaved):
                try:
                    path = _live.save_policy(
                        policy, name=name, parent=start, user=current_user(), role=current_role()
                    )
                except TriageError as exc:
                    st.error(exc.message)
                else:
                    saved = _data.load_policy(path)
                    parents = dict(st.session_state.get("_t_parents", {}))
                    parents[saved.sha256] = start.to_toml()
                    st.session_state["_t_parents"] = parents
                    st.session_state["_pending_policy"] = f"saved/{path.name}"
                    st.session_state["_t_saved"] = path.name
                    st.session_state["_t_unsaved"] = False
                    st.rerun()
