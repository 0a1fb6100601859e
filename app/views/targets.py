"""Targets (mandate-holders): capacity and balance bands, re-solved live, priced and saved."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

import _data
import altair as alt
import pandas as pd
import streamlit as st
from _ui import current_role, current_user, plain, simulated_banner

from triage.allocate import Bound, constraint_words, price_table
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

st.title("Targets")
history = _data.history()
simulated_banner(history.simulated)

start_path = _data.current_policy_path()
start = _data.load_policy(start_path)
st.caption(
    f"Starting from policy **{plain(start.name)}** ({start_path.name}, sha256 {start.sha256[:12]}); "
    "choose another in the sidebar."
)
cands = _data.candidates()
if cands.empty:
    st.info("No case awaits a decision: there is nothing to select.")
    st.stop()

# A new starting policy resets the sliders to its values.
if st.session_state.get("_t_loaded") != start.sha256:
    for key in [k for k in st.session_state if str(k).startswith("t_")]:
        del st.session_state[key]
    st.session_state["_t_loaded"] = start.sha256


def _moved(key: str) -> None:
    st.session_state["_t_last_moved"] = key


def _band_key(dim: str, code: str) -> str:
    return f"t_band__{dim}__{code}"


left, right = st.columns([2, 3], gap="large")
with left:
    st.subheader("Capacity and bands")
    n = len(cands)
    capacity = st.slider(
        "Capacity: cases to take up",
        min_value=1,
        max_value=max(n, start.capacity),
        value=min(start.capacity, max(n, start.capacity)),
        key="t_capacity",
        on_change=_moved,
        args=("t_capacity",),
        help=f"{n} cases await a decision.",
    )
    max_country = st.number_input(
        "At most this many cases per country (0 = no limit)",
        min_value=0,
        max_value=max(n, 1),
        value=int(start.max_per_country or 0),
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
                chosen = st.slider(
                    label(code),
                    0,
                    100,
                    (lo, hi),
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
    with st.spinner("Re-solving the selection…"):
        try:
            baseline, allocation = _data.live_allocations(start, policy)
        except (TriageError, ValueError) as exc:
            allocation = None
            st.warning(f"No selection: {getattr(exc, 'message', str(exc))}")
    if allocation is None:
        st.stop()
    if not allocation.feasible:
        st.warning(
            "**No selection meets all these targets.** " + (allocation.message or ""),
            icon=":material/rule:",
        )
        if allocation.relaxation is not None:
            changes = allocation.relaxation.changes
            st.markdown(
                "Smallest relaxation that makes them feasible:\n"
                + "\n".join(
                    f"- {constraint_words(r.name)}: from {int(r.target)} to "
                    f"{int(r.relaxed_to)} cases"
                    for r in changes.itertuples()
                )
            )
    else:
        objective = float(allocation.objective or 0.0)
        m1, m2, m3 = st.columns(3)
        m1.metric(
            "Cases selected",
            f"{len(allocation.selected)}",
            help=f"of {allocation.n_candidates} candidates",
        )
        m2.metric(
            "Expected improvements",
            f"{objective:.1f}",
            delta=f"{objective - float(baseline.objective or 0):+.1f} vs {start.name}"
            if baseline.feasible
            else None,
            help="Sum of the selected cases' scores: improvements expected within a year",
        )
        # The new selection is on screen first; pricing re-solves without each target (most
        # of a second on the demo queue) and fills in after.
        price_slot = m3.empty()
        added = sorted(set(allocation.selected) - set(baseline.selected))
        removed = sorted(set(baseline.selected) - set(allocation.selected))
        st.markdown(
            f"Against policy **{plain(start.name)}**: **{len(added)}** case(s) enter, **{len(removed)}** "
            f"leave (solver {allocation.solver}, status {allocation.status}, gap {allocation.gap:.2%})."
        )
        with st.expander("Cases that enter or leave"):
            st.dataframe(
                pd.DataFrame(
                    {
                        "Case": added + removed,
                        "Change": ["enters"] * len(added) + ["leaves"] * len(removed),
                    }
                ),
                hide_index=True,
                key="t_changes",
            )

        prices = _data.prices(policy)
        everything = prices[prices["name"] == "all targets"]
        price_slot.metric(
            "Price of all targets",
            f"{float(everything['cost'].iloc[0]):.2f}" if len(everything) else "–",
            help="Expected improvements given up against selecting by score alone",
        )
        st.markdown(
            "**Price of each target**, in expected improvements: what dropping the target would "
            "gain (re-solved), and the marginal price of one more case (LP dual). Binding first."
        )
        st.dataframe(
            price_table(prices),
            hide_index=True,
            key="t_prices",
            column_config={
                "Cost": st.column_config.NumberColumn(
                    "Cost (expected improvements)",
                    format="%.3f",
                    help="Objective without this target minus objective with it",
                ),
                "Price per case": st.column_config.NumberColumn(
                    "Price per case (expected improvements)",
                    format="%.3f",
                    help="How much the objective falls if the target asks for one more case",
                ),
            },
        )

    moved = st.session_state.get("_t_last_moved")
    match = re.fullmatch(r"t_band__(\w+?)__(\w+)", moved or "")
    if match:
        dim, code = match.groups()
        bound = policy.shares.get(dim, {}).get(code, Bound())
        side = "min" if bound.min is not None or bound.max is None else "max"
        curve = _data.tradeoff(policy, dim, code, side)
        now = (bound.min if side == "min" else bound.max) or 0.0
        verb = "Minimum" if side == "min" else "Maximum"
        st.altair_chart(
            (
                alt.Chart(curve)
                .mark_line(point=True)
                .encode(
                    x=alt.X(
                        "share:Q",
                        title=f"{verb} share of {label(code)} among the selected (%)",
                        axis=alt.Axis(format="%"),
                    ),
                    y=alt.Y(
                        "objective:Q",
                        title="Expected improvements (sum of scores)",
                        scale=alt.Scale(zero=False),
                    ),
                    tooltip=[
                        alt.Tooltip("share:Q", title="Share", format=".0%"),
                        alt.Tooltip("target:Q", title="Cases"),
                        alt.Tooltip("objective:Q", title="Expected improvements", format=".2f"),
                        alt.Tooltip("objective_loss:Q", title="Loss", format=".2f"),
                        alt.Tooltip("status:N", title="Solver status"),
                    ],
                )
                + alt.Chart(pd.DataFrame({"share": [now]}))
                .mark_rule(strokeDash=[4, 4])
                .encode(x="share:Q")
            ).properties(
                title=f"Trade-off of the target being moved: {label(code)} ({side}); dashed: now. "
                "Missing points are infeasible.",
                width="container",
                height=260,
            ),
            key="t_tradeoff",
        )
    else:
        st.caption("Move a band to see its trade-off curve.")

    st.subheader("Save as a new policy version")
    diff = list(
        difflib.unified_diff(
            start.to_toml().splitlines(),
            policy.to_toml().splitlines(),
            fromfile=f"{start.name} ({start.sha256[:12]})",
            tofile="these targets",
            lineterm="",
        )
    )
    if not diff:
        st.caption("The targets equal the starting policy: nothing to save.")
    else:
        st.code("\n".join(diff), language="diff")
        if not allowed(current_role(), "save_policy"):
            st.caption("Auditors review policies but do not save them.")
        else:
            with st.form("save_policy"):
                name = st.text_input(
                    "Name of the new version", f"{start.name}-revised", key="t_save_name"
                )
                if st.form_submit_button("Save policy version"):
                    try:
                        path = _data.save_policy(
                            policy,
                            name=name,
                            parent=start,
                            user=current_user(),
                            role=current_role(),
                        )
                    except TriageError as exc:
                        st.error(exc.message)
                    else:
                        st.session_state["_pending_policy"] = f"saved/{path.name}"
                        st.session_state["_t_saved"] = path.name
                        st.rerun()
    if "_t_saved" in st.session_state:
        st.success(
            f"Saved {st.session_state.pop('_t_saved')}: it is now the current policy "
            "(sidebar), for this session."
        )
