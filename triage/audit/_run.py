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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from triage._gc import gc_paused
from triage.audit._actor import Actor
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
from triage.audit._ledger_store import pack_blob
from triage.audit._privacy import ROLES, Role
from triage.audit._replay import ReplayResult, list_runs, record_json, replay, run_candidates
from triage.audit._roles import require
from triage.audit._run_content import (
    _chances,
    _check_policy_names,
    _override_list,
    _reason_entries,
    _reasons,
    _solver_info,
    _tie_lottery,
)
from triage.audit._run_io import (
    CANDIDATE_COLUMNS,
    Allocator,
    Explainer,
    PolicyParser,
    _call_with_optional,
    _default_allocator,
    _default_explainer,
    _default_policy_parser,
    _sha,
    _with_overrides,
    candidates_from_csv,
    candidates_to_csv,
)
from triage.audit._tables import AuditRecord
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
        case_id, selected, reason: one row per candidate; score_to_enter (score units, NaN when
        selected or out of reach) and displaced_by (';'-separated case ids) when the explainer
        gives them; with a model that has bootstrap replicates also p_selected (0–1) and chance
        (the same in words).
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


def _last_override_seq(tx: LedgerTx) -> int:
    """The seq of the chain's last override (0 without any): ``active_overrides(...)[1]``
    without reading and parsing every record, runs with their 100,000 reasons included."""
    query = select(func.max(AuditRecord.seq)).where(AuditRecord.kind == "override")
    return int(tx.conn.execute(query).scalar_one_or_none() or 0)


def _read_queue(registry: Registry) -> pd.DataFrame:
    """The registry's queue of open decisions; refused when empty."""
    from triage.registry import OPEN_DECISIONS

    queue = registry.queue(statuses=OPEN_DECISIONS)
    if queue is None or len(queue) == 0:
        raise TriageError(
            "the registry queue is empty: nothing to select. Load or ingest submissions first."
        )
    return queue


def _load_scorer(model_dir: str | Path | None) -> Scorer:
    from triage.scoring import load_model

    return load_model(model_dir)


def _score(
    scorer: Scorer | None,
    model_dir: str | Path | None,
    queue: pd.DataFrame,
    history: Any,
    report: ProgressCallback,
) -> tuple[Scorer, pd.DataFrame, np.ndarray | None]:
    """The scorer, the queue without names with score, lower and upper, and the bootstrap
    replicates' scores (cases × replicates) when the model has them."""
    if scorer is None:
        scorer = _load_scorer(model_dir)
    # The model never needs a name: give it the queue without them.
    public = queue.drop(columns=[c for c in queue.columns if c in SENSITIVE_COLUMNS])
    replicates: np.ndarray | None = None
    if hasattr(scorer, "member_scores"):
        from triage.features import build_features

        features = build_features(public, history)
        if hasattr(scorer, "predict_with_members"):
            # The score's interval already scores every member: keep those scores.
            scores, members = scorer.predict_with_members(public, history, features=features)
            report(3, 9, "scoring the bootstrap replicates")
        else:
            scores = _call_with_optional(scorer.predict, public, history, features=features)
            report(3, 9, "scoring the bootstrap replicates")
            members = scorer.member_scores(features)
        replicates = np.asarray(members)
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
    return scorer, merged, replicates


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
    # Two cores. On a second thread: the model loads (importing LightGBM takes seconds) while
    # this one reads the queue and history; the standing overrides are read while this one
    # scores; the chance of selection (20 re-solved allocations) runs while this one allocates
    # and explains; the policy's names are checked. Each task has its own inputs and seed, and
    # results are joined in a fixed order, so the record is the same whatever the scheduling.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="triage-run") as pool:
        model_loaded = pool.submit(_load_scorer, model_dir) if scorer is None else None
        report(0, 9, "reading the queue")
        queue = _read_queue(registry)
        report(1, 9, "reading the history")
        # The candidates are the queue just read: the history's copy of it is not needed.
        history = _call_with_optional(registry.history, with_queue=False)
        overrides_read = pool.submit(active_overrides, registry)
        report(2, 9, "scoring")
        if model_loaded is not None:
            scorer = model_loaded.result()
        scorer, merged, replicates = _score(scorer, model_dir, queue, history, report)
        data = candidates_to_csv(merged)
        candidates = candidates_from_csv(data)
        # The allocator's package is imported here, never on both threads at once.
        allocate = allocator or _default_allocator()
        chances_done = pool.submit(_chances, candidates, merged, policy, replicates, seed)
        standing, last_override = overrides_read.result()
        carried = {c: a for c, a in standing.items() if c in set(candidates["case_id"].astype(str))}
        overrides_entry = {
            "carried": [] if lapse_overrides else _override_list(carried),
            "lapsed": _override_list(carried) if lapse_overrides else [],
        }

        report(4, 9, "allocating")
        options: dict[str, Any] = {"seed": seed}
        if solver is not None:
            options["solver"] = solver
        allocation = _call_with_optional(
            allocate, _with_overrides(candidates, overrides_entry["carried"]), policy, **options
        )
        selected = sorted(str(c) for c in allocation.selected)
        report(5, 9, "reasons and chance of selection")
        # Nothing is recorded until the policy's names check passes.
        names_checked = pool.submit(_check_policy_names, registry, policy)
        # The candidate table compresses there too (zlib lets go of the GIL); stored below.
        packed = pool.submit(pack_blob, data)
        explain = explainer or _default_explainer()
        explained = explain(candidates, policy, allocation)
        names_checked.result()
        reasons = _reasons(explained, candidates, selected)
        # A policy that cannot be met selects nothing: no chance of selection to speak of.
        chances = chances_done.result() if getattr(allocation, "feasible", True) else None
    report(6, 9, "chance of selection")
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
        "reasons": _reason_entries(reasons),
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
        for c in candidates["case_id"].astype(str).tolist()  # not cell by cell: 0.1 s
    }
    # Paused collector: the record's text and the 100,000 moves make millions of objects.
    with gc_paused(), ledger_transaction(registry) as tx:
        if _last_override_seq(tx) != last_override:
            raise TriageError(
                "an override was recorded while this run was being computed; nothing was "
                "recorded. Run the selection again so that it takes the override into account."
            )
        record = append_numbered(
            tx, registry, "run", content, "run", actor=Actor(user, role, auth, now)
        )
        put_blob(registry, data, tx=tx, packed=packed.result)  # compressed by now
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
