"""Case: one incoming case in full, why the policy selects it or not, and staff overrides."""

from __future__ import annotations

import _data
import altair as alt
import pandas as pd
import streamlit as st
from _charts import percent, waterfall
from _ui import (
    current_auth,
    current_role,
    current_user,
    plain,
    plural,
    safe_table,
    simulated_banner,
)

from triage.allocate import decision_words, split_reason
from triage.audit import names_allowed, redact
from triage.audit._roles import allowed
from triage.errors import TriageError
from triage.explain import feature_words
from triage.registry import STATUSES
from triage.schema import COMM_TYPES, REPLY_CLASSES, countries, label, split_codes

WATERFALL_STEPS = 8

st.title("Case")
history = _data.history()
simulated_banner(history.simulated)
queue = _data.scored_queue()
ids = sorted(queue["case_id"].astype(str))
if not ids:
    st.info("The queue is empty: no incoming case to show.")
    st.stop()

# The case comes from the URL (?case=…), so a link from the Queue or a reload opens it.
wanted = st.query_params.get("case")
if wanted in ids and wanted != st.session_state.get("_case_url"):
    st.session_state["case_id"] = wanted
elif "case_id" not in st.session_state:
    kept = st.session_state.get("_keep_case_id")
    st.session_state["case_id"] = kept if kept in ids else ids[0]
case_id = st.selectbox("Case", ids, key="case_id", help="Type to search by case id")
st.session_state["_keep_case_id"] = st.session_state["_case_url"] = case_id
st.query_params["case"] = case_id

role = current_role()
row = queue[queue["case_id"] == case_id]
shown = redact(row, role, view="case").iloc[0]
case = row.iloc[0]
policy_path = _data.current_policy_path()
policy = _data.load_policy(policy_path)
why = _data.selection_reasons(policy)
decision = why[why["case_id"] == case_id]

country = countries().get(case["country"])
st.subheader(
    f"{case_id} · {country.name if country else case['country']} · {label(case['un_region'])}"
)
facts = {
    "Gender": label(case["gender"]),
    "Violations": ", ".join(label(c) for c in split_codes(case["violations"])) or "–",
    "Issue areas": ", ".join(label(c) for c in split_codes(case["issue_areas"])) or "–",
    "Protester": {True: "Yes", False: "No"}.get(case["protester"], "Unknown"),
    "Planned communication": f"{COMM_TYPES.get(case['type'], case['type'])}, "
    + (
        plural(int(case["n_mandates"]), "mandate")
        if pd.notna(case["n_mandates"])
        else "mandates unknown"
    ),
    "Received": f"{case['received_date']:%Y-%m-%d}",
    "Last incident": f"{case['last_incident_date']:%Y-%m-%d}"
    if pd.notna(case["last_incident_date"])
    else "unknown",
    "Status": STATUSES.get(case["status"], case["status"]),
}
if names_allowed(role, "case"):
    facts["Defender"] = str(shown.get("defender_name", "")) or "–"
    facts["Source"] = str(shown.get("source_contact", "")) or "–"
else:
    facts["Defender (pseudonym)"] = str(shown.get("defender_name_pseudonym", "")) or "–"
st.table(pd.DataFrame({"Detail": list(facts), "Value": list(facts.values())}).set_index("Detail"))

score_col, decision_col = st.columns(2)
score_col.metric(
    "Score: probability of improvement within a year",
    f"{case['score']:.1%}",
    help="Calibrated estimate of model " + str(_data.model().version),
)
score_col.caption(f"90% interval: {case['lower']:.1%} to {case['upper']:.1%}")
override = _data.effective_overrides().get(case_id)
with decision_col:
    if decision.empty:
        st.info(
            "Not a candidate of the current selection (status: "
            f"{STATUSES.get(case['status'], case['status'])})."
        )
    else:
        d = decision.iloc[0]
        if override is not None:
            st.markdown(f"**{plain(decision_words(bool(d['selected']), override))}**")
            policy_said = "selects" if bool(d["selected"]) else "does not select"
            st.caption(
                f"Without the override, policy {plain(policy.name)} {policy_said} this case:"
            )
        else:
            st.markdown(
                f"**Policy {plain(policy.name)}: {decision_words(bool(d['selected']), None)}**"
            )
        words, names = split_reason(d["reason"])
        st.markdown(words)
        if names and role == "auditor":
            st.caption(f"Constraints named in this reason: `{names}`")
        if "p_selected" in d and pd.notna(d["p_selected"]):
            st.metric(
                "Chance of selection",
                f"{d['p_selected']:.0%}",
                help="Share of the model's plausible versions (bootstrap replicates, each refitted "
                "on a resample of past outcomes) under which this policy selects the case.",
            )
            st.caption(str(d["chance"]).capitalize() + ".")
        if pd.notna(d["score_to_enter"]):
            word = "to stay selected" if bool(d["selected"]) else "to be selected"
            st.markdown(f"Score needed {word}: **{d['score_to_enter']:.1%}**")
        if isinstance(d["displaced_by"], str) and d["displaced_by"]:
            verb = (
                "Cases it would displace if taken up"
                if not bool(d["selected"])
                else "Cases that would enter if it left"
            )
            st.markdown(f"{verb}:")
            keep = {"as": role} if st.session_state.get("auth_demo") else {}
            others = [c.strip() for c in str(d["displaced_by"]).split(";") if c.strip()]
            cols = st.columns(min(len(others), 4) or 1)
            for i, other in enumerate(others):
                cols[i % len(cols)].page_link(
                    "views/case.py",
                    label=other,
                    icon=":material/open_in_new:",
                    query_params={"case": other, **keep},
                )

st.subheader("Why this score")
explanation = _data.explanations([case_id])
contrib = explanation[explanation["case_id"] == case_id]
base_rows = contrib[contrib["feature"] == "_base"]
feats = contrib[contrib["feature"] != "_base"].copy()
feats["size"] = feats["contribution"].abs()
feats = feats.sort_values(["size", "feature"], ascending=[False, True])
top, rest = feats.head(WATERFALL_STEPS), feats.iloc[WATERFALL_STEPS:]
base = float(base_rows["contribution"].iloc[0]) if not base_rows.empty else 0.0


steps = [("Average case (base rate)", 0.0, base, "base")]
running = base
for r in top.itertuples():
    steps.append(
        (
            feature_words(str(r.feature), None if pd.isna(r.value) else r.value),
            running,
            running + r.contribution,
            "up" if r.contribution >= 0 else "down",
        )
    )
    running += r.contribution
if not rest.empty:
    total = float(rest["contribution"].sum())
    steps.append(
        (
            f"{len(rest)} other facts together",
            running,
            running + total,
            "up" if total >= 0 else "down",
        )
    )
    running += total
steps.append(("Score", 0.0, running, "score"))
frame = pd.DataFrame(steps, columns=["label", "start", "end", "kind"])
# The chart orders steps by label: two facts said in the same words must stay two steps.
frame["label"] = [
    text if n == 0 else f"{text} ({n + 1})"
    for text, n in zip(frame["label"], frame.groupby("label").cumcount(), strict=True)
]
st.altair_chart(
    waterfall(
        frame, title=f"What moved {case_id}'s score from the average case (percentage points, SHAP)"
    ),
    key="waterfall",
)
plain = _data.reasons([case_id], top=5)
st.markdown(
    "\n".join(f"{int(r.rank)}. {r.text}" for r in plain.itertuples()) or "No reasons available."
)

st.subheader("Sending alone or jointly")
options = list(range(1, 9))
scenarios = _data.what_if(case_id, tuple(options))
planned = int(case["n_mandates"]) if pd.notna(case["n_mandates"]) else 1
scenarios["Plan"] = ["planned" if n == planned else "alternative" for n in scenarios["n_mandates"]]
alone = scenarios[scenarios["n_mandates"] == 1].iloc[0]
joint = scenarios[scenarios["n_mandates"] == planned].iloc[0]
w1, w2, w3 = st.columns(3)
w1.metric("HRD mandate alone", f"{alone['score']:.1%}")
w2.metric(
    f"Jointly with {planned} mandates (planned)",
    f"{joint['score']:.1%}",
    delta=f"{(joint['score'] - alone['score']) * 100:+.1f} pts vs alone",
)
w3.caption(
    "Each additional mandate delays an urgent appeal by about a week (the paper's Figure 5); "
    "the model sees the longer time since the last incident."
)
base_chart = alt.Chart(scenarios).encode(
    x=alt.X("n_mandates:O", title="Mandates signing the communication", axis=alt.Axis(labelAngle=0))
)
st.altair_chart(
    (
        base_chart.mark_errorbar().encode(y=percent("y", "lower:Q", "Score (%)"), y2="upper:Q")
        + base_chart.mark_point(filled=True, size=80).encode(
            y="score:Q",
            shape=alt.Shape(
                "Plan:N",
                title="",
                scale=alt.Scale(domain=["planned", "alternative"], range=["diamond", "circle"]),
            ),
            color=alt.Color(
                "Plan:N",
                scale=alt.Scale(domain=["planned", "alternative"], range=["#D55E00", "#0072B2"]),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip("n_mandates:O", title="Mandates"),
                alt.Tooltip("score:Q", title="Score", format=".1%"),
                alt.Tooltip("lower:Q", title="Lower", format=".1%"),
                alt.Tooltip("upper:Q", title="Upper", format=".1%"),
            ],
        )
    ).properties(title="Score by number of mandates (90% interval)", width="container", height=260),
    key="what_if",
)

left, right = st.columns(2)
with left:
    st.subheader("The individual's earlier cases")
    earlier = history.cases[history.cases["individual_id"] == case["individual_id"]]
    if earlier.empty or pd.isna(case["individual_id"]):
        st.markdown("No earlier case of this individual in the registry.")
    else:
        comms = history.communications[["communication_id", "type", "n_mandates", "reply_class"]]
        earlier = earlier.merge(comms, on="communication_id", how="left").merge(
            history.outcomes[["case_id", "outcome"]], on="case_id", how="left"
        )
        st.dataframe(
            pd.DataFrame(
                {
                    "Case": earlier["case_id"],
                    "Sent": earlier["sent_date"].dt.date,
                    "Type": earlier["type"].map(
                        lambda t: "–" if pd.isna(t) else COMM_TYPES.get(t, t)
                    ),
                    "Mandates": earlier["n_mandates"].map(
                        lambda n: "–" if pd.isna(n) else str(int(n))
                    ),
                    "Violations": earlier["violations"].map(
                        lambda v: ", ".join(label(c) for c in split_codes(v))
                    ),
                    "State reply": earlier["reply_class"].map(
                        lambda r: REPLY_CLASSES.get(r, "No reply") if pd.notna(r) else "No reply"
                    ),
                    "Outcome after a year": earlier["outcome"].map(
                        lambda o: label(o) if pd.notna(o) else "not recorded"
                    ),
                }
            ),
            hide_index=True,
            key="earlier_cases",
        )
with right:
    st.subheader("The country's reply record")
    record = _data.country_record(str(case["country"]))
    if record is None:
        st.markdown("No earlier case with this country in the registry.")
    else:
        overall = _data.overall_record()
        # The score used the country's record as it stood when the case was received (the
        # model's inputs, in the reasons above); the other columns count every reply recorded
        # until today. Both are shown, each labelled.
        inputs = dict(zip(contrib["feature"], contrib["value"], strict=True))

        def _then(feature: str, fmt: str) -> str:
            value = inputs.get(feature)
            if value is None or pd.isna(value):
                return "–"
            return fmt.format(float(value))

        name = country.name if country else str(case["country"])
        st.table(
            pd.DataFrame(
                {
                    "Measure": [
                        "Individual cases",
                        "Response rate",
                        "Rejection rate",
                        "Mean response time",
                    ],
                    f"{name}, at the time of the case (used by the score)": [
                        "–",
                        _then("country_reply_rate", "{:.0%}"),
                        _then("country_rejection_rate", "{:.0%}"),
                        _then("country_response_days", "{:.0f} days"),
                    ],
                    f"{name}, today": [
                        f"{int(record['cases']):,}",
                        f"{record['substantive_reply_rate']:.0%}",
                        "–"
                        if pd.isna(record["rejection_rate"])
                        else f"{record['rejection_rate']:.0%}",
                        "–"
                        if pd.isna(record["mean_response_days"])
                        else f"{record['mean_response_days']:.0f} days",
                    ],
                    "All states, today": [
                        f"{int(overall['cases']):,}",
                        f"{overall['substantive_reply_rate']:.0%}",
                        f"{overall['rejection_rate']:.0%}",
                        f"{overall['mean_response_days']:.0f} days",
                    ],
                }
            ).set_index("Measure")
        )
        st.caption(
            "Response rate excludes immaterial replies; rejection rate is over replies of known "
            "content. *At the time of the case*: the record as the model saw it when the case "
            "was received (the reasons above quote it); *today*: every reply recorded since."
        )

st.subheader("Decision override")
run_id = _data.latest_run_for(case_id)
if run_id is None:
    st.markdown(
        "No recorded selection run holds this case yet: record one on the **Selection** page, "
        "then override its decision here."
    )
elif allowed(role, "override"):
    st.caption(
        f"An override changes the decision of run {run_id} for this case; auditors see it. "
        "Later runs keep it (selected stays in, dropped stays out) unless the person running "
        "them lets it lapse; the run record lists it either way."
    )
    with st.form("override", clear_on_submit=True):
        action = st.radio(
            "Decision",
            ["select", "drop"],
            format_func={
                "select": "Take up this case",
                "drop": "Do not take up this case",
            }.__getitem__,
            key="override_action",
            horizontal=True,
        )
        reason = st.text_area(
            "Reason (required, at least 10 characters; no names)", key="override_reason"
        )
        if st.form_submit_button("Record override"):
            if not reason.strip():
                st.error("An override needs a reason. Nothing was recorded.")
            else:
                try:
                    record_id = _data.record_override(
                        case_id,
                        action,
                        reason.strip(),
                        user=current_user(),
                        role=role,
                        auth=current_auth(),
                    )
                except TriageError as exc:
                    st.error(f"Not recorded: {exc.message}")
                else:
                    st.success(f"Override {record_id} recorded for {case_id} in {run_id}.")
else:
    st.caption("Only staff record overrides; every override is listed here and on the Audit page.")
recorded = _data.overrides(case_id)
if recorded.empty:
    st.markdown("No override recorded for this case.")
else:
    st.dataframe(safe_table(recorded), hide_index=True, key="case_overrides")
