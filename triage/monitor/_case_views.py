"""The Case page's precomputed views: every incoming case's SHAP table and its what-if scores.

``triage demo prepare`` explains every incoming case (SHAP contributions in probability points)
and scores it as if sent with 1 to 8 mandates, once, into ``var/cache/case-views/``; the Case
page reads a case's rows from there instead of computing SHAP and rebuilding its features on
every visit. The files are served only when their key matches the model artifacts, every
incoming submission (statuses left out: a recorded run changes statuses, never scores) and the
row counts of the history tables, so nothing stale is ever shown; on a miss the page computes
the one case it shows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, get_args

import numpy as np
import pandas as pd

from triage.config import var_dir
from triage.monitor._cache import frame_fingerprint, model_sha256

if TYPE_CHECKING:
    from triage.registry import Registry

__all__ = [
    "CASE_VIEWS_FORMAT",
    "WHAT_IF_MANDATES",
    "CaseViews",
    "build_case_views",
    "case_views_key",
    "case_views_path",
    "history_counts",
    "history_digest",
    "read_case_views",
    "write_case_views",
]

#: Bumped whenever the stored layout or its meaning changes: older files then simply miss.
CASE_VIEWS_FORMAT = 1
#: The numbers of mandates the Case page compares (1 = the HRD mandate alone).
WHAT_IF_MANDATES: tuple[int, ...] = tuple(range(1, 9))
#: Tables whose rows change what a case's features are (a status event or a run does not).
_HISTORY_TABLES = ("submissions", "individuals", "communications", "cases", "replies", "outcomes")


def case_views_path() -> Path:
    """Where the Case page's views live: ``var/cache/case-views/`` (machine-local)."""
    return var_dir() / "cache" / "case-views"


@dataclass(frozen=True)
class CaseViews:
    """Every incoming case's SHAP table and what-if scores, computed once.

    Attributes
    ----------
    key : str
        What the views were computed from (``case_views_key``): served only while it matches.
    contributions : DataFrame
        ``triage.explain.explain`` of every incoming case: case_id, feature, value,
        contribution (probability points / 100; ``feature == "_base"`` is the base score).
    what_if : DataFrame
        case_id, n_mandates, score, lower, upper (probabilities 0-1): each case's score if sent
        with each of ``WHAT_IF_MANDATES`` mandates.
    """

    key: str
    contributions: pd.DataFrame
    what_if: pd.DataFrame

    def contributions_of(self, case_ids: list[str]) -> pd.DataFrame | None:
        """The SHAP rows of ``case_ids`` when every one is stored, else None."""
        rows = self.contributions[self.contributions["case_id"].isin(case_ids)]
        return rows.reset_index(drop=True) if set(rows["case_id"]) >= set(case_ids) else None

    def what_if_of(self, case_id: str, n_mandates: tuple[int, ...]) -> pd.DataFrame | None:
        """The case's scores under each of ``n_mandates`` when stored, else None."""
        rows = self.what_if[
            (self.what_if["case_id"] == case_id) & self.what_if["n_mandates"].isin(n_mandates)
        ]
        if len(rows) != len(set(n_mandates)):
            return None
        return rows.sort_values("n_mandates").reset_index(drop=True)


def history_counts(registry: Registry) -> dict[str, int]:
    """Rows of the registry tables a case's features are built from (statuses left out)."""
    counts = registry.counts()
    return {t: int(counts[t]) for t in sorted(counts) if t in _HISTORY_TABLES}


#: Columns a recorded run or an override rewrites: left out of ``history_digest``.
_STATUS_COLUMNS = frozenset({"status", "status_at"})


def history_digest(registry: Registry) -> str:
    """SHA-256 (hex) of every row of the history tables, statuses left out.

    Unlike ``history_counts`` it changes when a row is edited in place (a reply's date, an
    outcome corrected), so a history read earlier is known to be stale even with the same
    numbers of rows. Rows are read in primary-key order as the database returns them (no
    pandas conversion): about a third of the time of ``Registry.history()`` on the demo registry.
    """
    return registry.content_digest(_HISTORY_TABLES, leave_out=_STATUS_COLUMNS)


def case_views_key(registry: Registry, *, model_dir: Path) -> str:
    """SHA-256 over the format, the model artifacts, the incoming submissions and history counts.

    Statuses and status events are left out, so a recorded run or an override keeps the views.
    """
    from triage.registry import Status

    submissions = registry.queue(statuses=get_args(Status), with_status=True)
    payload = {
        "format": CASE_VIEWS_FORMAT,
        "model_sha256": model_sha256(model_dir),
        "submissions": frame_fingerprint(submissions.drop(columns="status", errors="ignore")),
        "counts": history_counts(registry),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


def _what_if_table(model: object, queue: pd.DataFrame, history: object) -> pd.DataFrame:
    """Every case scored under each of WHAT_IF_MANDATES, in one call of the model."""
    k = len(WHAT_IF_MANDATES)
    copies = queue.loc[queue.index.repeat(k)].reset_index(drop=True)
    mandates = np.tile(np.array(WHAT_IF_MANDATES), len(queue))
    # The feature builder needs distinct ids: one per (case, number of mandates).
    copies["case_id"] = [f"{c}#{n}" for c, n in zip(copies["case_id"], mandates, strict=True)]
    copies["n_mandates"] = pd.array(mandates, dtype="Int64")
    scored = model.predict(copies, history)  # type: ignore[attr-defined]
    return pd.DataFrame(
        {
            "case_id": np.repeat(queue["case_id"].astype(str).to_numpy(), k),
            "n_mandates": mandates.astype("int64"),
            "score": scored["score"].to_numpy(dtype=float),
            "lower": scored["lower"].to_numpy(dtype=float),
            "upper": scored["upper"].to_numpy(dtype=float),
        }
    )


def build_case_views(
    registry: Registry,
    *,
    model_dir: Path,
    on_progress: Callable[[int, int, str], None] | None = None,
) -> CaseViews:
    """Explain every incoming case and score it under 1 to 8 mandates (``CaseViews``)."""
    from triage.explain import explain
    from triage.features import build_features
    from triage.scoring import load_model

    def step(done: int, what: str) -> None:
        if on_progress is not None:
            on_progress(done, 3, what)

    step(0, "reading the registry")
    key = case_views_key(registry, model_dir=model_dir)
    history = registry.history()
    queue = history.queue if history.queue is not None else registry.queue()
    model = load_model(model_dir)
    step(1, "explaining every incoming case")
    contributions = explain(model, queue, history, features=build_features(queue, history))
    step(2, "scoring each case under 1 to 8 mandates")
    what_if = _what_if_table(model, queue.reset_index(drop=True), history)
    step(3, "done")
    return CaseViews(key=key, contributions=contributions, what_if=what_if)


def write_case_views(views: CaseViews, folder: Path | None = None) -> Path:
    """Write ``views`` (two Parquet files and the key) and return the folder.

    The key file is written last, so a reader of a half-written folder sees an old key: a miss.
    """
    target = case_views_path() if folder is None else Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    (target / "key.json").unlink(missing_ok=True)
    values = views.contributions["value"]
    numeric = pd.to_numeric(values, errors="coerce")
    contributions = pd.DataFrame(
        {
            "case_id": views.contributions["case_id"].astype(str),
            "feature": views.contributions["feature"].astype(str),
            # ``value`` holds numbers and ISO3 codes: one column of each, so Parquet can type them.
            "value_number": numeric.astype(float),
            "value_text": values.where(numeric.isna() & values.notna()).astype(object),
            "contribution": views.contributions["contribution"].astype(float),
        }
    )
    contributions.to_parquet(target / "contributions.parquet", index=False)
    views.what_if.to_parquet(target / "what_if.parquet", index=False)
    (target / "key.json").write_text(
        json.dumps({"format": CASE_VIEWS_FORMAT, "key": views.key}), encoding="utf-8"
    )
    return target


def read_case_views(folder: Path | None = None, *, key: str) -> CaseViews | None:
    """The stored views when the folder exists, is readable and holds ``key``; else None."""
    source = case_views_path() if folder is None else Path(folder)
    try:
        meta = json.loads((source / "key.json").read_text(encoding="utf-8"))
        if meta.get("format") != CASE_VIEWS_FORMAT or meta.get("key") != key:
            return None
        stored = pd.read_parquet(source / "contributions.parquet")
        what_if = pd.read_parquet(source / "what_if.parquet")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    text = stored["value_text"].astype(object)
    value = stored["value_number"].astype(object).where(text.isna(), text)
    contributions = pd.DataFrame(
        {
            "case_id": stored["case_id"].astype(str),
            "feature": stored["feature"].astype(str),
            "value": value.where(value.notna(), np.nan),
            "contribution": stored["contribution"].astype(float),
        }
    )
    return CaseViews(key=key, contributions=contributions, what_if=what_if)
