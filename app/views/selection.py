"""Selection: the chosen set against every target, binding constraints, exports and runs."""

from __future__ import annotations

import _data
import altair as alt
import pandas as pd
import streamlit as st
from _charts import percent
from _ui import (
    NEUTRAL,
    colour_scale,
    current_auth,
    current_role,
    current_user,
    export_buttons,
    plain,
    plural,
    simulated_banner,
)

from triage.allocate import (
    achieved_vs_bands,
    compare_policies,
    group_explanation,
    split_reason,
)
from triage.audit import names_allowed
from triage.errors import TriageError
from triage.monitor import shares_by_year
from triage.schema import (
    GENDERS,
    SENSITIVE_COLUMNS,
    UN_REGIONS,
    VIOLATIONS,
    countries,
    label,
    split_codes,
)

DIM_TITLES = {"un_region": "UN regional group", "gender": "Gender", "violations": "Violation"}

st.title("Selection")
history = _data.history()
simulated_banner(history.simulated)
policy_path = _data.current_policy_path()
policy = _data.load_policy(policy_path)
cands = _data.candidates()
if cands.empty:
    st.info("No case awaits a decision: there is no selection to show.")
    st.stop()
allocation, why = _data.allocation(policy)

st.caption(
    f"Policy **{plain(policy.name)}** ({policy_path.name}; content hash sha256 "
    f"{policy.sha256[:12]}, the hash of its canonical text, as on every page); model "
    f"{_data.model().version}; solver {allocation.solver}."
)
if not allocation.feasible:
    st.warning(
        "**This policy cannot be met.** " + (allocation.message or ""), icon=":material/rule:"
    )
    st.stop()

m1, m2, m3, m4 = st.columns(4)
m1.metric("Cases selected", f"{len(allocation.selected):,}", help=f"capacity {policy.capacity}")
m2.metric("Candidates", f"{allocation.n_candidates:,}")
m3.metric(
    "Expected improvements",
    f"{float(allocation.objective or 0):.1f}",
    help="Sum of the selected cases' scores",
)
m4.metric(
    "Solution",
    "best possible" if allocation.status == "optimal" else str(allocation.status),
    help=f"Solver {allocation.solver}, status {allocation.status}, optimality gap "
    f"{allocation.gap:.2%}",
)

groups = achieved_vs_bands(allocation, policy)
st.subheader("Achieved against every target")
st.caption(
    "Bars: share of the selected cases, in each group's colour. Grey span: the policy's band. "
    "Outlined and marked “binding”: the band limits the selection."
)
# Last year's achieved shares: the cases the mandate took up in the registry's latest full year.
cases = history.cases
latest_year = int(cases["sent_date"].dt.year.max()) if len(cases) else None
last_year: pd.DataFrame | None = None
last_label = "last year"
if latest_year is not None:
    full = (
        latest_year - 1
        if (cases["sent_date"].dt.year == latest_year).sum()
        < 0.5 * (cases["sent_date"].dt.year == latest_year - 1).sum()
        else latest_year
    )
    last_label = str(full)
    frames = [
        shares_by_year(cases, dim, vocab).query("year == @full")
        for dim, vocab in (
            ("un_region", UN_REGIONS),
            ("gender", GENDERS),
            ("violations", VIOLATIONS),
        )
    ]
    last_year = pd.concat(frames, ignore_index=True)
tabs = st.tabs([DIM_TITLES[d] for d in DIM_TITLES])
for tab, dim in zip(tabs, DIM_TITLES, strict=True):
    part = groups[groups["dimension"] == dim]
    with tab:
        order = list(part["Group"])
        base = alt.Chart(part).encode(
            y=alt.Y("Group:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
        )
        band = base.mark_bar(color="#d9d9d9", height=18).encode(
            x=percent("x", "band_lo:Q", "Share of the selected cases (%)"),
            x2="band_hi:Q",
        )
        # Each group keeps its page-wide colour; a binding band is outlined and written out.
        bars = base.mark_bar(height=10).encode(
            x="share:Q",
            color=alt.Color("Group:N", scale=colour_scale(dim), legend=None)
            if dim in ("un_region", "gender")
            else alt.value(NEUTRAL),
            stroke=alt.condition(
                "datum.Binding == '● binding'", alt.value("black"), alt.value("transparent")
            ),
            strokeWidth=alt.value(2),
            tooltip=[
                "Group:N",
                alt.Tooltip("Selected:Q", title="Selected cases"),
                alt.Tooltip("share:Q", title="Achieved share", format=".1%"),
                alt.Tooltip("Band:N"),
                alt.Tooltip("Binding:N"),
            ],
        )
        text = base.mark_text(align="left", dx=4).encode(x="share:Q", text="note:N")
        st.altair_chart(
            (band + bars + text).properties(width="container", height=alt.Step(30)),
            key=f"sel_chart_{dim}",
        )
        last = last_year[last_year["code"].isin(part["group"])] if last_year is not None else None
        shown = part.assign(
            **{
                f"Taken up in {last_label}": part["group"]
                .map(
                    dict(zip(last["code"], last["share"].map(lambda v: f"{v:.1%}"), strict=True))
                    if last is not None
                    else {}
                )
                .fillna("–"),
                "Band": part["Band"],
                "Limits the selection": part["Binding"].map(
                    {"● binding": "yes", "not binding": "no", "no band": "–"}
                ),
            }
        )
        st.dataframe(
            shown[
                [
                    "Group",
                    "Candidates",
                    "Selected",
                    "Achieved",
                    f"Taken up in {last_label}",
                    "Band",
                    "Limits the selection",
                ]
            ].rename(columns={"Achieved": "Share now"}),
            hide_index=True,
            key=f"sel_table_{dim}",
        )
        pick = st.selectbox(
            "Explain, for the public, why a group got the cases it got",
            list(part["group"]),
            format_func=label,
            key=f"sel_explain_{dim}",
            index=None,
            placeholder="Choose a group",
        )
        if pick:
            st.info(group_explanation(cands, allocation, policy, dim, pick))

st.subheader("Selected cases and reasons")
queue = _data.scored_queue()
chosen = why.merge(queue, on="case_id", how="left")
role = current_role()
keep_names = names_allowed(role, "export")
export = pd.DataFrame(
    {
        "case_id": chosen["case_id"],
        "selected": chosen["selected"].astype(bool),
        "reason": chosen["reason"],
        "score": chosen["score"].round(4),
        "lower": chosen["lower"].round(4),
        "upper": chosen["upper"].round(4),
        "score_to_enter": chosen["score_to_enter"].round(4),
        "displaced_by": chosen["displaced_by"],
        "country": chosen["country"],
        "country_name": chosen["country"].map(
            lambda c: countries()[c].name if c in countries() else c
        ),
        "un_region": chosen["un_region"],
        "gender": chosen["gender"],
        "violations": chosen["violations"],
        "issue_areas": chosen["issue_areas"],
        "received_date": chosen["received_date"].dt.strftime("%Y-%m-%d"),
        **(
            {c: chosen[c] for c in sorted(SENSITIVE_COLUMNS) if c in chosen.columns}
            if keep_names
            else {}
        ),
    }
).sort_values(["selected", "score"], ascending=[False, False], ignore_index=True)
selected_only = st.toggle("Show only the selected cases", value=True, key="sel_only")
view = export[export["selected"]] if selected_only else export
st.dataframe(
    view.assign(
        violations=view["violations"].map(lambda v: ", ".join(label(c) for c in split_codes(v))),
        reason=view["reason"].map(lambda r: split_reason(r)[0]),
        score_to_enter=view["score_to_enter"].map(lambda v: "" if pd.isna(v) else f"{v:.1%}"),
        # Percentages to one decimal, as the reasons quote them.
        score=view["score"] * 100,
        lower=view["lower"] * 100,
        upper=view["upper"] * 100,
        displaced_by=view["displaced_by"].fillna(""),
        **(
            {"constraints": view["reason"].map(lambda r: split_reason(r)[1])}
            if role == "auditor"
            else {}
        ),
    ).rename(
        columns={
            "case_id": "Case",
            "selected": "Selected",
            "reason": "Reason",
            "score": "Score",
            "lower": "Lower",
            "upper": "Upper",
            "score_to_enter": "Score to enter",
            "displaced_by": "Would displace",
            "country": "ISO3",
            "country_name": "Country",
            "un_region": "Region",
            "gender": "Gender",
            "violations": "Violations",
            "issue_areas": "Issue areas",
            "received_date": "Received",
            "constraints": "Constraints (auditors)",
        }
    ),
    hide_index=True,
    key="sel_cases",
    column_config={
        "Reason": st.column_config.TextColumn("Reason", width="large"),
        "Score": st.column_config.NumberColumn("Score", format="%.1f%%"),
        "Lower": st.column_config.NumberColumn("Lower", format="%.1f%%"),
        "Upper": st.column_config.NumberColumn("Upper", format="%.1f%%"),
    },
)
if not keep_names:
    st.caption(
        "Names of defenders and sources are left out of this list and of the exports for your role."
    )
stem = f"selection-{policy.name}-{policy.sha256[:8]}"
d1, d2 = st.columns(2)
export_buttons(
    (d1, d2),
    export,
    role=role,
    simulated=bool(history.simulated),
    stem=stem,
    labels=("Download CSV", "Download XLSX"),
    key="sel",
)

st.subheader("Compare with another policy")
options = _data.policy_options()
others = [k for k, p in options.items() if p != policy_path]
if not others:
    st.caption("Only one policy exists: save a version on Targets to compare.")
else:
    other_key = st.selectbox(
        f"Set **{policy.name}** (A) side by side with (B)", others, key="sel_compare"
    )
    other = _data.load_policy(options[other_key])
    other_allocation = _data.selection(other)
    if not other_allocation.feasible:
        st.warning(f"Policy {other.name} cannot be met with these candidates.")
    else:
        summary, compared = compare_policies(cands, (policy, allocation), (other, other_allocation))
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("Taken up under both", f"{summary['in_both']:,}")
        c2.metric(f"Only under A ({policy.name})", f"{summary['only_a']:,}")
        c3.metric(f"Only under B ({other.name})", f"{summary['only_b']:,}")
        c4.metric(
            "Expected improvements, A → B",
            f"{summary['expected_a']:.1f} → {summary['expected_b']:.1f}",
            help="Defenders' situations expected to improve within a year",
        )
        st.dataframe(compared, hide_index=True, key="sel_compare_table")

st.subheader("Record this selection")


@st.fragment
def _record() -> None:
    # A fragment: the button reruns this section only; the page above is not drawn again.
    if role == "auditor":
        st.caption("Auditors review runs on the Audit page; they do not record selections.")
        return
    st.markdown(
        "Recording scores the registry queue, selects under this policy, stores a hash-chained "
        "run record and moves every candidate to *selected* or *not selected*."
    )
    standing = _data.standing_overrides()
    if standing:
        st.markdown(
            f"**{plural(len(standing), 'earlier override')} carry forward**: a case someone "
            "selected stays in, one someone dropped stays out. The run record lists them."
        )
    lapse = st.checkbox(
        "Let earlier overrides lapse (the allocator decides those cases afresh; the record "
        "lists them as lapsed)",
        key="sel_lapse",
        disabled=not standing,
    )
    if not st.button("Record selection run", key="sel_record", type="primary"):
        return
    bar = st.progress(0.0, text="Recording the run: reading the queue…")

    def progress(done: int, total: int, what: str) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"Recording the run: {what}…")

    try:
        run = _data.record_run(
            policy_path,
            user=current_user(),
            role=role,
            auth=current_auth(),
            lapse_overrides=lapse,
            on_progress=progress,
        )
    except TriageError as exc:
        bar.empty()
        st.error(exc.message)
        return
    bar.empty()
    kept = run.record.content.get("overrides", {})
    st.success(
        f"Recorded {run.run_id}: {plural(len(run.selected), 'case')} selected "
        f"(solution: {'best possible' if run.allocation.status == 'optimal' else run.allocation.status}); "
        f"{plural(len(kept.get('carried', [])), 'earlier override')} kept, "
        f"{len(kept.get('lapsed', [])):,} let lapse. See it on the Audit page; the other pages "
        "show the new statuses when next opened."
    )


_record()
