"""Selection runs as decision records: run, store with the hash chain, list and replay.

A run scores the registry's queue, allocates under a policy, explains each decision and
stores one append-only record with everything needed to check it later: the acting user and
role, the policy text and its SHA-256, the model version and artifact hash, the candidate
table itself (by SHA-256, stored byte for byte), the solver's name, version, status and gap,
the seed, the selection and each case's reason. ``replay`` re-allocates from the stored
inputs alone, so it works even after the model is retrained or removed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from triage.audit._ledger import (
    HasEngine,
    LedgerRecord,
    LedgerTx,
    append_numbered,
    ledger_transaction,
    put_blob,
    read_records,
    utc_now,
)
from triage.audit._privacy import ROLES, Role
from triage.audit._replay import ReplayResult, list_runs, record_json, replay, run_candidates
from triage.audit._roles import require
from triage.audit._run_io import (
    CANDIDATE_COLUMNS,
    Allocator,
    Explainer,
    PolicyParser,
    _call_with_optional,
    _default_allocator,
    _default_explainer,
    _default_policy_parser,
    _json_value,
    _sha,
    _with_overrides,
    candidates_from_csv,
    candidates_to_csv,
)
from triage.errors import TriageError
from triage.schema import SENSITIVE_COLUMNS

__all__ = [
    "CANDIDATE_COLUMNS",
    "ReplayResult",
    "RunRecord",
    "active_overrides",
    "candidates_from_csv",
    "candidates_to_csv",
    "list_runs",
    "record_json",
    "replay",
    "run_candidates",
    "run_selection",
]

ProgressCallback = Callable[[int, int, str], None]

if TYPE_CHECKING:
    from triage.registry import Registry, Status


class Scorer(Protocol):
    """What ``run_selection`` needs of a model: ``predict``, ``version`` and ``sha256``."""

    version: str
    sha256: str

    def predict(self, cases: pd.DataFrame, history: Any) -> pd.DataFrame: ...


@dataclass(frozen=True)
class RunRecord:
    """A stored selection run.

    Attributes
    ----------
    run_id : str
        ``run-000001``...; the ledger record id.
    allocation : object
        The allocator's result (``status``, ``gap``, ``selected``, ...).
    selected : list of str
        Selected case ids, sorted.
    reasons : DataFrame
        case_id, selected, reason: one row per candidate; with a model that has bootstrap
        replicates also p_selected (0–1) and chance (the same in words).
    candidates : DataFrame
        The stored candidate table (no names), as re-read from its canonical CSV.
    record : LedgerRecord
        The chained record as stored.
    """

    run_id: str
    allocation: Any
    selected: list[str]
    reasons: pd.DataFrame = field(repr=False)
    candidates: pd.DataFrame = field(repr=False)
    record: LedgerRecord = field(repr=False)


def _library_version(solver_name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _version

    # The allocator names the solver; the library version makes the record reproducible.
    module = "pulp" if "cbc" in solver_name.lower() else "highspy"
    try:
        return f"{module} {_version(module)}"
    except PackageNotFoundError:
        return None


def _solver_info(allocation: Any, requested: str | None) -> dict[str, Any]:
    solver = getattr(allocation, "solver", None)
    name, version = str(solver or "unknown"), None
    if isinstance(solver, dict):
        name, version = str(solver.get("name", "unknown")), solver.get("version")
    elif solver is not None and not isinstance(solver, str):
        name = str(getattr(solver, "name", solver))
        version = getattr(solver, "version", None)
    version = version or getattr(allocation, "solver_version", None) or _library_version(name)
    return {
        "name": name,
        "requested": requested,
        "version": None if version is None else str(version),
        "status": str(getattr(allocation, "status", "unknown")),
        "gap": _json_value(getattr(allocation, "gap", None)),
        "objective": _json_value(getattr(allocation, "objective", None)),
    }


def _reasons(
    explained: pd.DataFrame, candidates: pd.DataFrame, selected: Sequence[str]
) -> pd.DataFrame:
    chosen = set(selected)
    base = pd.DataFrame({"case_id": candidates["case_id"].astype(str)})
    base["selected"] = base["case_id"].isin(chosen)
    if explained is not None and len(explained) and "reason" in explained.columns:
        reasons = explained.loc[:, ["case_id", "reason"]].copy()
        reasons["case_id"] = reasons["case_id"].astype(str)
        base = base.merge(reasons.drop_duplicates("case_id"), on="case_id", how="left")
    else:
        base["reason"] = None
    base["reason"] = base["reason"].astype(object).where(base["reason"].notna(), "")
    return base.sort_values("case_id").reset_index(drop=True)


def _chances(
    candidates: pd.DataFrame,
    scored: pd.DataFrame,
    policy: Any,
    replicates: np.ndarray | None,
    allocation: Any,
    seed: int,
) -> pd.DataFrame | None:
    """p_selected per candidate, or None without replicates or a feasible selection."""
    if replicates is None or replicates.ndim != 2 or replicates.shape[1] == 0:
        return None
    if not getattr(allocation, "feasible", True) or not hasattr(policy, "shares"):
        return None
    from triage.allocate import selection_chances

    # The replicate rows follow the scored queue; the stored candidates are re-read from CSV.
    position = pd.Series(np.arange(len(scored)), index=scored["case_id"].astype(str))
    rows = position.loc[candidates["case_id"].astype(str)].to_numpy()
    return selection_chances(candidates, policy, replicates[rows], seed=seed).by_case


def _tie_lottery(allocation: Any, seed: int) -> dict[str, Any]:
    ties = getattr(allocation, "ties", ())
    return {"seed": seed, "ties": [t.to_dict() for t in ties]}


def _reason_entry(row: dict[Any, Any]) -> dict[str, Any]:
    entry = {
        "case_id": str(row["case_id"]),
        "selected": bool(row["selected"]),
        "reason": str(row["reason"]),
    }
    p = row.get("p_selected")
    if p is not None and not pd.isna(p):
        entry["p_selected"] = round(float(p), 6)
        entry["chance"] = str(row["chance"])
    return entry


def active_overrides(
    registry: HasEngine, *, tx: LedgerTx | None = None
) -> tuple[dict[str, dict[str, str]], int]:
    """Overrides still standing, by case: the latest override of each case that no later run
    let lapse, as ``{case_id: {"action", "override_id"}}``; and the seq of the last override."""
    standing: dict[str, dict[str, str]] = {}
    last = 0
    for rec in read_records(registry, tx=tx):
        if rec.kind == "override":
            standing[str(rec.content["case_id"])] = {
                "action": str(rec.content["action"]),
                "override_id": rec.record_id,
            }
            last = rec.seq
        elif rec.kind == "run":
            for entry in rec.content.get("overrides", {}).get("lapsed", []):
                standing.pop(str(entry["case_id"]), None)
    return standing, last


def _override_list(carried: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    return [
        {
            "case_id": case_id,
            "action": entry["action"],
            "override_id": entry["override_id"],
            "as": "must_include" if entry["action"] == "select" else "must_exclude",
        }
        for case_id, entry in sorted(carried.items())
    ]


def run_selection(
    *,
    registry: Registry,
    policy_path: str | Path,
    user: str,
    role: Role,
    model_dir: str | Path | None = None,
    seed: int = 0,
    solver: str | None = None,
    scorer: Scorer | None = None,
    allocator: Allocator | None = None,
    explainer: Explainer | None = None,
    policy_parser: PolicyParser | None = None,
    advance: bool = True,
    now: dt.datetime | None = None,
    on_progress: ProgressCallback | None = None,
    lapse_overrides: bool = False,
    auth: str | None = None,
) -> RunRecord:
    """Score the registry queue, allocate, store the hash-chained record and move each case on.

    The record, its candidate table and every status change commit in one transaction that
    holds the chain's write lock, so a run takes effect whole or not at all, and concurrent
    runs take effect in chain order. Earlier overrides carry forward: a case someone selected
    is a must-include, a case someone dropped is left out, unless ``lapse_overrides`` lets them
    lapse; either way the record lists them under ``overrides``.

    Parameters
    ----------
    registry : Registry
        Source of the queue and history; where the record is stored.
    policy_path : str or Path
        The balance policy (TOML). Its text is stored with the record.
    user : str
        Who runs the selection.
    role : {"staff", "mandate_holder", "auditor"}
        Their role; auditors may not select.
    model_dir : str or Path, optional
        The model folder (default ``models/default``).
    seed : int, default 0
        Recorded with the run and passed to the allocator when it takes one.
    solver : str, optional
        The allocator's solver (``highs``, ``cbc``, ``highspy``); default the allocator's own.
        Recorded, and used again by ``replay``.
    scorer, allocator, explainer, policy_parser : optional
        Replace ``triage.scoring.load_model(model_dir)``, ``triage.allocate.allocate``,
        ``triage.allocate.explain_selection`` and ``Policy.from_toml`` (for tests).
    advance : bool, default True
        Move every candidate to ``selected`` / ``not_selected`` with the run id.
    now : datetime, optional
        Timezone-aware time of the run (default: now, UTC).
    on_progress : callable, optional
        ``on_progress(done, total, what)``.
    lapse_overrides : bool, default False
        Let earlier overrides lapse: the allocator decides those cases afresh.
    auth : {"demo", "password", "token"}, optional
        How the user signed in (stored with the record).

    Returns
    -------
    RunRecord
    """
    if role not in ROLES:
        raise ValueError(f"`role` must be one of {', '.join(ROLES)}. Got {role!r} instead.")
    require(role, "record_run")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative int. Got {seed!r} instead.")
    report = on_progress or (lambda done, total, what: None)
    path = Path(policy_path)
    try:
        policy_bytes = path.read_bytes()
    except OSError as exc:
        raise TriageError(f"{path}: cannot read the policy ({exc}).") from exc
    policy_text = policy_bytes.decode("utf-8", errors="strict")
    parse = policy_parser or _default_policy_parser()
    policy = parse(policy_text)
    from triage.audit._names import check_free_text, name_index

    texts: dict[str, str] = {}
    for field_name in ("name", "description"):
        value = getattr(policy, field_name, None)
        if isinstance(value, str) and value:
            texts[field_name] = value
    index = name_index(registry) if texts else None  # every name read once, not per field
    for field_name, value in texts.items():
        check_free_text(registry, value, what=f"the policy {field_name}", index=index)

    report(0, 9, "reading the queue")
    from triage.registry import OPEN_DECISIONS

    queue = registry.queue(statuses=OPEN_DECISIONS)
    if queue is None or len(queue) == 0:
        raise TriageError(
            "the registry queue is empty: nothing to select. Load or ingest submissions first."
        )
    report(1, 9, "reading the history")
    history = registry.history()

    report(2, 9, "scoring")
    if scorer is None:
        from triage.scoring import load_model

        scorer = load_model(model_dir)
    # The model never needs a name: give it the queue without them.
    public = queue.drop(columns=[c for c in queue.columns if c in SENSITIVE_COLUMNS])
    replicates: np.ndarray | None = None
    if hasattr(scorer, "member_scores"):
        from triage.features import build_features

        features = build_features(public, history)
        scores = _call_with_optional(scorer.predict, public, history, features=features)
        report(3, 9, "scoring the bootstrap replicates")
        replicates = np.asarray(scorer.member_scores(features))
    else:
        scores = scorer.predict(public, history)
    if "case_id" not in scores.columns or "score" not in scores.columns:
        raise TriageError("the model's predictions lack case_id or score columns.")
    merged = public.merge(
        scores.loc[:, [c for c in ("case_id", "score", "lower", "upper") if c in scores.columns]],
        on="case_id",
        how="inner",
        validate="one_to_one",
    )
    if len(merged) != len(public):
        raise TriageError(
            f"the model scored {len(merged)} of {len(public)} queued cases; every case needs a score."
        )
    data = candidates_to_csv(merged)
    candidates = candidates_from_csv(data)
    standing, last_override = active_overrides(registry)
    carried = {c: a for c, a in standing.items() if c in set(candidates["case_id"].astype(str))}
    overrides_entry = {
        "carried": [] if lapse_overrides else _override_list(carried),
        "lapsed": _override_list(carried) if lapse_overrides else [],
    }

    report(4, 9, "allocating")
    allocate = allocator or _default_allocator()
    options: dict[str, Any] = {"seed": seed}
    if solver is not None:
        options["solver"] = solver
    allocation = _call_with_optional(
        allocate, _with_overrides(candidates, overrides_entry["carried"]), policy, **options
    )
    selected = sorted(str(c) for c in allocation.selected)
    report(5, 9, "reasons")
    explain = explainer or _default_explainer()
    reasons = _reasons(explain(candidates, policy, allocation), candidates, selected)
    report(6, 9, "chance of selection")
    chances = _chances(candidates, merged, policy, replicates, allocation, seed)
    if chances is not None:
        reasons = reasons.merge(
            chances.loc[:, ["case_id", "p_selected", "chance"]], on="case_id", how="left"
        )

    report(7, 9, "recording the run")
    candidates_sha = hashlib.sha256(data).hexdigest()
    content = {
        "policy": {
            "path": path.name,
            "text": policy_text,
            "sha256": _sha(policy_bytes),
            "normalised_sha256": getattr(policy, "sha256", None),
        },
        "model": {
            "version": str(getattr(scorer, "version", "unknown")),
            "sha256": str(getattr(scorer, "sha256", "")),
            "dir": str(model_dir) if model_dir is not None else None,
            **(
                {
                    "card_sha256": str(getattr(scorer, "card_sha256", "")),
                    "integrity": str(scorer.integrity),
                }
                if hasattr(scorer, "integrity")
                else {}
            ),
        },
        "candidates": {
            "sha256": candidates_sha,
            "n": len(candidates),
            "columns": list(CANDIDATE_COLUMNS),
        },
        "solver": _solver_info(allocation, solver),
        "seed": seed,
        "selected": selected,
        "reasons": [_reason_entry(r) for r in reasons.to_dict("records")],
        "tie_lottery": _tie_lottery(allocation, seed),
        "chance_of_selection": {
            "replicates": 0 if chances is None else int(chances["n_replicates"].iloc[0]),
            "definition": (
                "share of the model's bootstrap replicates (the pipeline refitted on resamples "
                "of the labelled cases) under which this policy, with the same tie lottery, "
                "selects the case"
            ),
        },
        "simulated": bool(getattr(history, "simulated", False)),
        "overrides": overrides_entry,
        **({} if advance else {"applied": False}),
    }
    chosen = set(selected)
    decisions: dict[str, Status] = {
        c: ("selected" if c in chosen else "not_selected")
        for c in candidates["case_id"].astype(str)
    }
    with ledger_transaction(registry) as tx:
        if active_overrides(registry, tx=tx)[1] != last_override:
            raise TriageError(
                "an override was recorded while this run was being computed; nothing was "
                "recorded. Run the selection again so that it takes the override into account."
            )
        put_blob(registry, data, tx=tx)
        record = append_numbered(
            tx, registry, "run", content, "run", user=user, role=role, now=now, auth=auth
        )
        if advance:
            report(8, 9, "moving cases along their lifecycle")
            registry.advance_many(
                decisions, run_id=record.record_id, at=now or utc_now(), conn=tx.conn
            )
    report(9, 9, "done")
    return RunRecord(
        run_id=record.record_id,
        allocation=allocation,
        selected=selected,
        reasons=reasons,
        candidates=candidates,
        record=record,
    )
