"""Overrides: a person selecting or dropping a case against the allocator, as chained records.

Each override names the run, the case, the action, the user and role, a reason and the time.
``override_summary`` shows where people and the model disagree: override rates by UN regional
group, gender and violation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from triage._validation import check_params, one_of
from triage.audit._actor import Actor
from triage.audit._ledger import (
    HasEngine,
    LedgerRecord,
    LedgerTx,
    append_numbered,
    get_record,
    ledger_transaction,
    read_records,
)
from triage.audit._names import check_free_text, withhold
from triage.audit._privacy import ROLES, Role
from triage.audit._roles import require
from triage.audit._run import run_candidates
from triage.errors import TriageError
from triage.schema import split_codes

_CONSTRAINTS = {"action": one_of(("select", "drop")), "role": one_of(ROLES)}

__all__ = ["OverrideSummary", "effective_selection", "override_summary", "record_override"]

Action = Literal["select", "drop"]
_MIN_REASON = 10


def effective_selection(
    registry: HasEngine, run_id: str, *, tx: LedgerTx | None = None
) -> set[str]:
    """Return a run's selection after applying its overrides in order."""
    record = get_record(registry, run_id, kind="run", tx=tx)
    chosen = set(record.content["selected"])
    for o in read_records(registry, kind="override", tx=tx):
        if o.content["run_id"] != run_id:
            continue
        if o.content["action"] == "select":
            chosen.add(o.content["case_id"])
        else:
            chosen.discard(o.content["case_id"])
    return chosen


def record_override(
    registry: HasEngine,
    *,
    run_id: str,
    case_id: str,
    action: Action,
    reason: str,
    user: str,
    role: Role,
    now: dt.datetime | None = None,
    advance: bool = True,
    auth: str | None = None,
) -> LedgerRecord:
    """Record that ``user`` selects or drops ``case_id`` against run ``run_id``'s allocation.

    Parameters
    ----------
    run_id, case_id : str
        The run and one of its candidates.
    action : {"select", "drop"}
        ``select`` a case the run (with earlier overrides) left out, or ``drop`` one it chose.
    reason : str
        Why, in at least 10 characters; never put names here.
    user, role : str
        Who decides; auditors may not override.
    advance : bool, default True
        Move the case's lifecycle to ``selected`` / ``not_selected`` with the run id.
    auth : {"demo", "password", "token"}, optional
        How the user signed in (stored with the record).

    The record and the status change commit in one transaction holding the chain's write lock:
    concurrent overrides are serialised, and a second override of the same case in the same
    run is refused.

    Raises
    ------
    TriageError
        Unknown run or case, a case already in the requested state or already overridden in
        this run, a role that may not override, a short reason or one that names someone.
    """
    check_params(_CONSTRAINTS, action=action, role=role)
    require(role, "override")
    reason = " ".join(str(reason or "").split())
    if len(reason) < _MIN_REASON:
        raise TriageError(f"an override needs a reason of at least {_MIN_REASON} characters.")
    check_free_text(registry, reason, what="the override reason")
    candidates = set(run_candidates(registry, run_id)["case_id"].astype(str))
    if case_id not in candidates:
        raise TriageError(f"case {case_id!r} was not a candidate of {run_id}.")
    status = "selected" if action == "select" else "not_selected"
    with ledger_transaction(registry) as tx:
        for o in read_records(registry, kind="override", tx=tx):
            if o.content["run_id"] == run_id and o.content["case_id"] == case_id:
                raise TriageError(
                    f"case {case_id} was already overridden in {run_id} ({o.record_id}, "
                    f"{o.content['action']}); one override per case and run."
                )
        later = [
            r.record_id
            for r in read_records(registry, kind="run", tx=tx)
            if r.seq > get_record(registry, run_id, kind="run", tx=tx).seq
        ]
        if later:
            raise TriageError(
                f"{run_id} was superseded by {later[-1]}; override the case in the latest run."
            )
        chosen = effective_selection(registry, run_id, tx=tx)
        if action == "select" and case_id in chosen:
            raise TriageError(
                f"case {case_id} is already selected in {run_id}; nothing to override."
            )
        if action == "drop" and case_id not in chosen:
            raise TriageError(f"case {case_id} is not selected in {run_id}; nothing to drop.")
        current = _status_of(tx, case_id) if advance else None
        if current is not None:
            from triage.registry import check_transition

            check_transition(case_id, current, status, run_id=run_id)
        content = {
            "run_id": run_id,
            "case_id": case_id,
            "action": action,
            "reason": reason,
            # Only a decision that did not move the registry says so (verify skips it).
            **({} if advance and current is not None else {"applied": False}),
        }
        record = append_numbered(
            tx, registry, "override", content, "ovr", actor=Actor(user, role, auth, now)
        )
        if current is not None and hasattr(registry, "advance"):
            registry.advance(
                case_id,
                status,
                at=(now.date() if now else None),
                run_id=run_id,
                note=f"override {record.record_id}",
                conn=tx.conn,
            )
    return record


def _status_of(tx: LedgerTx, case_id: str) -> str | None:
    try:
        from sqlalchemy import inspect, select

        from triage.registry import Submission
    except ImportError:  # pragma: no cover
        return None
    if Submission.__tablename__ not in inspect(tx.conn).get_table_names():
        return None
    found = tx.conn.execute(
        select(Submission.status).where(Submission.submission_id == case_id)
    ).first()
    return None if found is None else str(found[0])


@dataclass(frozen=True)
class OverrideSummary:
    """Override rates.

    Attributes
    ----------
    overall : DataFrame
        One row: runs, cases (candidate-run pairs), overrides, selects, drops, rate
        (overrides / cases).
    by_group : DataFrame
        dimension (un_region, gender, violation), group (code), cases, overrides, selects,
        drops, rate. A case with several violations counts under each.
    overrides : DataFrame
        Every override: override_id, created_at, user, role, run_id, case_id, action, reason.
    """

    overall: pd.DataFrame
    by_group: pd.DataFrame
    overrides: pd.DataFrame


def override_summary(registry: HasEngine, *, run_id: str | None = None) -> OverrideSummary:
    """Summarise overrides over every run (or one run) by region, gender and violation."""
    runs = [
        r for r in read_records(registry, kind="run") if run_id is None or r.record_id == run_id
    ]
    if run_id is not None and not runs:
        raise TriageError(
            f"no run record {run_id!r} in the registry; `triage audit runs` lists them."
        )
    ids = {r.record_id for r in runs}
    overrides = pd.DataFrame(
        [
            {
                "override_id": o.record_id,
                "created_at": o.created_at,
                "user": o.user,
                "role": o.role,
                **{k: o.content[k] for k in ("run_id", "case_id", "action", "reason")},
            }
            for o in read_records(registry, kind="override")
            if o.content["run_id"] in ids
        ],
        columns=[
            "override_id",
            "created_at",
            "user",
            "role",
            "run_id",
            "case_id",
            "action",
            "reason",
        ],
    )
    # Text stored before reasons were checked never reaches a reader with a name in it.
    overrides = withhold(registry, overrides, ("user", "reason"))
    frames = []
    for r in runs:
        cands = run_candidates(registry, r.record_id).loc[
            :, ["case_id", "un_region", "gender", "violations"]
        ]
        cands.insert(0, "run_id", r.record_id)
        frames.append(cands)
    cases = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["run_id", "case_id", "un_region", "gender", "violations"])
    )
    counts = (
        overrides.groupby(["run_id", "case_id", "action"]).size().unstack(fill_value=0)
        if len(overrides)
        else None
    )
    cases["selects"] = 0
    cases["drops"] = 0
    if counts is not None:
        key = pd.MultiIndex.from_frame(cases[["run_id", "case_id"]])
        for action, col in (("select", "selects"), ("drop", "drops")):
            if action in counts.columns:
                cases[col] = counts[action].reindex(key, fill_value=0).to_numpy()
    cases["overrides"] = cases["selects"] + cases["drops"]
    overall = pd.DataFrame(
        [
            {
                "runs": len(runs),
                "cases": len(cases),
                "overrides": int(cases["overrides"].sum()),
                "selects": int(cases["selects"].sum()),
                "drops": int(cases["drops"].sum()),
                "rate": float(cases["overrides"].sum() / len(cases))
                if len(cases)
                else float("nan"),
            }
        ]
    )
    parts = []
    for dim in ("un_region", "gender"):
        g = cases.assign(group=cases[dim].fillna("unknown").astype(str)).groupby("group")[
            ["overrides", "selects", "drops"]
        ]
        part = g.sum().join(g.size().rename("cases")).reset_index()
        part.insert(0, "dimension", dim)
        parts.append(part)
    exploded = cases.assign(
        group=cases["violations"].map(lambda v: list(split_codes(v)) or ["none"])
    ).explode("group")
    g = exploded.groupby("group")[["overrides", "selects", "drops"]]
    part = g.sum().join(g.size().rename("cases")).reset_index()
    part.insert(0, "dimension", "violation")
    parts.append(part)
    by_group = (
        pd.concat(parts, ignore_index=True)
        if len(cases)
        else pd.DataFrame(columns=["dimension", "group", "cases", "overrides", "selects", "drops"])
    )
    by_group = by_group.loc[:, ["dimension", "group", "cases", "overrides", "selects", "drops"]]
    by_group["rate"] = (by_group["overrides"] / by_group["cases"]).astype(float)
    return OverrideSummary(
        overall=overall, by_group=by_group.reset_index(drop=True), overrides=overrides
    )
