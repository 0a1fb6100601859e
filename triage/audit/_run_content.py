"""What a run record says besides its inputs: the solver, each case's reason and chance of
selection, the tie lottery and the overrides it carries; and the policy-names check a run
makes before it reads the queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from triage.audit._run_io import _json_value


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


#: Columns of ``explain_selection`` kept beside the reason when the explainer gives them.
_EXACT = ("score_to_enter", "displaced_by")


def _reasons(
    explained: pd.DataFrame, candidates: pd.DataFrame, selected: Sequence[str]
) -> pd.DataFrame:
    chosen = set(selected)
    base = pd.DataFrame({"case_id": candidates["case_id"].astype(str)})
    base["selected"] = base["case_id"].isin(chosen)
    if explained is not None and len(explained) and "reason" in explained.columns:
        # The exact score to enter and who would leave come along, so `triage select --reasons`
        # writes them without explaining the run a second time.
        kept = ["case_id", "reason", *(c for c in _EXACT if c in explained.columns)]
        reasons = explained.loc[:, kept].copy()
        reasons["case_id"] = reasons["case_id"].astype(str)
        base = base.merge(reasons.drop_duplicates("case_id"), on="case_id", how="left")
    else:
        base["reason"] = None
    for col in ("reason", "displaced_by"):
        if col in base.columns:
            base[col] = base[col].astype(object).where(base[col].notna(), "")
    return base.sort_values("case_id").reset_index(drop=True)


def _chances(
    candidates: pd.DataFrame,
    scored: pd.DataFrame,
    policy: Any,
    replicates: np.ndarray | None,
    seed: int,
) -> pd.DataFrame | None:
    """p_selected per candidate, or None without replicates (the caller drops it when the
    selection is infeasible)."""
    if replicates is None or replicates.ndim != 2 or replicates.shape[1] == 0:
        return None
    if not hasattr(policy, "shares"):
        return None
    from triage.allocate import selection_chances

    # The replicate rows follow the scored queue; the stored candidates are re-read from CSV.
    position = pd.Series(np.arange(len(scored)), index=scored["case_id"].astype(str))
    rows = position.loc[candidates["case_id"].astype(str)].to_numpy()
    return selection_chances(candidates, policy, replicates[rows], seed=seed).by_case


def _tie_lottery(allocation: Any, seed: int) -> dict[str, Any]:
    ties = getattr(allocation, "ties", ())
    return {"seed": seed, "ties": [t.to_dict() for t in ties]}


def _texts(column: pd.Series) -> list[str]:
    """``column.astype(str).tolist()``, without the round trip through a string array when
    the cells are already str (the reasons: 0.2 s of a 100,000-case run's record)."""
    cells = column.tolist()
    if all(type(c) is str for c in cells):
        return cells
    return column.astype(str).tolist()


def _reason_entries(reasons: pd.DataFrame) -> list[dict[str, Any]]:
    """The record's reasons: case_id, selected, reason and, where computed, p_selected (0–1,
    six decimals) and chance; read column by column, not row by row through pandas."""
    ids: list[str] = _texts(reasons["case_id"])
    chosen: list[bool] = reasons["selected"].astype(bool).tolist()
    said: list[str] = _texts(reasons["reason"])
    if "p_selected" not in reasons.columns:
        return [
            {"case_id": c, "selected": s, "reason": r}
            for c, s, r in zip(ids, chosen, said, strict=True)
        ]
    chances: list[float] = reasons["p_selected"].to_numpy(np.float64, na_value=np.nan).tolist()
    words: list[str] = _texts(reasons["chance"])
    entries: list[dict[str, Any]] = []
    for c, s, r, p, w in zip(ids, chosen, said, chances, words, strict=True):
        entry: dict[str, Any] = {"case_id": c, "selected": s, "reason": r}
        if p == p:  # not NaN: the case's chance of selection was computed
            entry["p_selected"] = round(p, 6)
            entry["chance"] = w
        entries.append(entry)
    return entries


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


def _check_policy_names(registry: Any, policy: Any) -> None:
    """Refuse a policy whose name or description holds a defender's name or a source contact."""
    from triage.audit._names import check_free_text, name_index

    texts: dict[str, str] = {}
    for field_name in ("name", "description"):
        value = getattr(policy, field_name, None)
        if isinstance(value, str) and value:
            texts[field_name] = value
    # Every name read once, not per field; only those sharing a word with the texts indexed.
    index = name_index(registry, for_texts=texts.values()) if texts else None
    for field_name, value in texts.items():
        check_free_text(registry, value, what=f"the policy {field_name}", index=index)
