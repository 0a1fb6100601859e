"""Audit: every selection run with its inputs' hashes, overrides, chain check and replay."""

from __future__ import annotations

import _data
import pandas as pd
import streamlit as st
from _ui import current_role, kept_selectbox, plain, plural, safe_table, simulated_banner

from triage.allocate import split_reason
from triage.audit import get_record, list_runs, override_summary, replay, verify_chain
from triage.audit._decisions import OVERRIDE_ACTIONS
from triage.audit._replay import record_json
from triage.errors import TriageError
from triage.schema import label

#: Headers of ``override_summary(...).overrides``' columns, in their order (override_id,
#: created_at, user, role, run_id, case_id, action, reason).
_OVERRIDE_HEADERS = ["Override", "Time (UTC)", "User", "Role", "Run", "Case", "Action", "Reason"]


def _gap(value: object) -> str:
    """An optimality gap as a percentage ("0.00%"), or "–" when none was recorded."""
    try:
        return f"{float(value):.2%}"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "–"


st.title("Audit")
history = _data.history()
simulated_banner(history.simulated)
registry = _data.registry()

check = verify_chain(registry)
if check.ok:
    st.success(
        f"Audit trail intact: {check.n_records:,} record{'' if check.n_records == 1 else 's'}, head hash {check.head_hash[:16]}…",
        icon=":material/link:",
    )
else:
    st.error(f"Audit trail BROKEN: {check.problem}", icon=":material/link_off:")

runs = list_runs(registry)
if runs.empty:
    st.info(
        "No selection run is recorded yet. Staff or a mandate-holder records one with "
        "**Record selection run** on the Selection page (or `triage select` without `--candidates`)."
    )
    st.stop()

records = {r: get_record(registry, r, kind="run") for r in runs["run_id"]}
table = pd.DataFrame(
    {
        "Run": runs["run_id"],
        "Time (UTC)": runs["created_at"],
        "User": runs["user"],
        "Role": runs["role"],
        "Policy": [records[r].content["policy"].get("path", "") for r in runs["run_id"]],
        # One hash per policy on every page: the content hash (sha256 of the canonical text,
        # as Selection and Targets show it); the file's own hash is in the run's details.
        "Policy content hash": [
            str(
                records[r].content["policy"].get("normalised_sha256")
                or records[r].content["policy"]["sha256"]
            )[:12]
            for r in runs["run_id"]
        ],
        "Model": runs["model_version"],
        "Candidates sha256": [
            records[r].content["candidates"]["sha256"][:12] for r in runs["run_id"]
        ],
        "Solver": [records[r].content["solver"].get("name", "") for r in runs["run_id"]],
        "Status": runs["status"],
        "Gap": [_gap(g) if pd.notna(g) else "–" for g in runs["gap"]],
        "Candidates": runs["candidates"],
        "Selected": runs["selected"],
        "Overrides": runs["overrides"],
    }
).iloc[::-1]
st.subheader("Selection runs")
st.dataframe(
    safe_table(table),
    hide_index=True,
    key="audit_runs",
)


def _carried(entries: list[dict[str, str]], verb: str) -> str:
    if not entries:
        return f"none {verb}"
    listed = ", ".join(f"{e['case_id']} ({e['action']}, {e['override_id']})" for e in entries[:10])
    more = f" and {len(entries) - 10} more" if len(entries) > 10 else ""
    return f"{verb} {len(entries)}: {plain(listed)}{more}"


run_id = kept_selectbox("Run", list(table["Run"]), key="audit_run", format_func=str)
content = records[run_id].content
record = records[run_id]
c1, c2 = st.columns(2)
with c1:
    st.markdown(
        "\n".join(
            [
                f"- **Time**: {record.created_at}",
                f"- **User**: {plain(record.user)} ({record.role}, signed in by "
                f"{content.get('signed_in', 'unknown')})",
                f"- **Policy**: {content['policy'].get('path', '')}, content hash (sha256 of "
                f"the canonical text) `{content['policy'].get('normalised_sha256') or '–'}`; "
                f"file hash (sha256 of the stored bytes, checked by replay) "
                f"`{content['policy']['sha256']}`",
                f"- **Model**: {plain(content['model']['version'])}, sha256 "
                f"`{content['model'].get('sha256', '')[:16]}…` (artifacts against their card: "
                f"{plain(content['model'].get('integrity', 'not checked'))})",
                f"- **Candidate data**: {content['candidates']['n']} cases, sha256 `{content['candidates']['sha256']}`",
                f"- **Solver**: {content['solver'].get('name')} {content['solver'].get('version') or ''}, "
                f"status {content['solver'].get('status')}, gap {_gap(content['solver'].get('gap'))}",
                f"- **Seed**: {content.get('seed')}",
                "- **Earlier overrides**: "
                + _carried(content.get("overrides", {}).get("carried", []), "kept")
                + "; "
                + _carried(content.get("overrides", {}).get("lapsed", []), "let lapse"),
                f"- **Record hash**: `{record.hash[:16]}…` (previous `{record.prev_hash[:16]}…`)",
                f"- **Data**: {'SIMULATED' if content.get('simulated') else 'registry'}",
            ]
        )
    )
with c2:
    if st.button("Replay this run", key="audit_replay", type="primary"):
        with st.spinner("Replaying from the stored candidates and policy…"):
            try:
                result = replay(registry, run_id)
            except TriageError as exc:
                st.error(exc.message)
            else:
                if result.identical:
                    st.success(
                        f"Replay identical: {result.summary()}", icon=":material/check_circle:"
                    )
                else:
                    st.error(f"Replay differs: {result.summary()}", icon=":material/cancel:")
    with st.expander("Policy text as stored"):
        st.code(content["policy"]["text"], language="toml")

st.subheader(f"Selection of {run_id}")
reasons = pd.DataFrame(content.get("reasons", []), columns=["case_id", "selected", "reason"])
# Words for everyone; the exact constraint names in a column of their own, for auditors.
split = [split_reason(r) for r in reasons["reason"]]
reasons = reasons.assign(reason=[w for w, _ in split])
if current_role() == "auditor":
    reasons = reasons.assign(constraints=[n for _, n in split])
st.dataframe(
    safe_table(
        reasons.rename(
            columns={
                "case_id": "Case",
                "selected": "Selected",
                "reason": "Reason",
                "constraints": "Constraints (exact names)",
            }
        ).sort_values(["Selected", "Case"], ascending=[False, True])
    ),
    hide_index=True,
    key="audit_selection",
)

st.subheader("Overrides")
summary = override_summary(registry, run_id=run_id)
ov = summary.overrides
if ov.empty:
    st.markdown(f"No override of {run_id}.")
else:
    words = ov.assign(action=ov["action"].map(OVERRIDE_ACTIONS).fillna(ov["action"]))
    st.dataframe(
        safe_table(words.set_axis(_OVERRIDE_HEADERS, axis=1)),
        hide_index=True,
        key="audit_overrides",
    )
overall = override_summary(registry)
o = overall.overall.iloc[0]
st.caption(
    f"All runs: {plural(int(o['overrides']), 'override')} over "
    f"{plural(int(o['cases']), 'candidate decision')}."
)
by_group = overall.by_group
if not by_group.empty and int(o["overrides"]) > 0:
    st.dataframe(
        pd.DataFrame(
            {
                "Grouping": by_group["dimension"]
                .map(
                    {"un_region": "UN regional group", "gender": "Gender", "violation": "Violation"}
                )
                .fillna(by_group["dimension"]),
                "Group": by_group["group"].map(label),
                "Candidate decisions": by_group["cases"],
                "Overrides": by_group["overrides"],
                "Taken up": by_group["selects"],
                "Dropped": by_group["drops"],
                "Override rate": by_group["rate"].map(lambda r: f"{float(r):.1%}"),
            }
        ),
        hide_index=True,
        key="audit_override_groups",
    )
st.download_button(
    "Download this run record (JSON)",
    # The same bytes as the record in ``triage audit export``'s bundle.
    record_json(record),
    f"{run_id}.json",
    "application/json",
    key="audit_download",
)
