"""Recording a selection run with what a session has already loaded: the model and the history.

The app holds the parsed model and the registry's history in memory; parsing the model's
bootstrap boosters and rebuilding the history take seconds that ``run_selection`` would spend
again. ``run_selection_loaded`` hands them in: the model as the scorer (its version, sha256 and
integrity are recorded as ``load_model`` would give them), and the history through a view of
the registry that serves it only while the tables a history is built from hold the same rows,
with the same content, as when it was read (otherwise the registry is read again). Everything else, including the
record, is ``run_selection``'s. When the session has already explained the very selection the
run makes (the same candidates, byte for byte in their canonical CSV, the same policy, the same
selected cases and objective), that explanation is reused instead of computed again.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

if TYPE_CHECKING:
    from triage.audit._run import RunRecord
    from triage.schema import History

__all__ = ["KnownSelection", "run_selection_loaded"]


class _LoadedHistory:
    """The registry, whose ``history()`` is the one already read while it is still current:
    the same rows in the history tables (``history_counts``) with the same content
    (``history_digest``, when given: an edit in place keeps the counts)."""

    def __init__(
        self,
        registry: Any,
        history: History,
        counts: Mapping[str, int],
        digest: str | None = None,
    ) -> None:
        self._registry = registry
        self._history = history
        self._counts = dict(counts)
        self._digest = digest
        self._now: Future[str] | None = None
        if digest is not None:
            from triage.monitor import history_digest

            # Hashed now, on its own thread, while the run checks the policy's text and reads
            # the queue: the run asks for the history only after those.
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="history-digest")
            self._now = pool.submit(history_digest, registry)
            pool.shutdown(wait=False)  # the thread ends with the digest

    def _current(self) -> bool:
        from triage.monitor import history_counts

        if history_counts(self._registry) != self._counts:
            return False
        return self._now is None or self._now.result() == self._digest

    def history(self) -> History:
        if self._current():
            return self._history
        return cast("History", self._registry.history())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._registry, name)


@dataclass(frozen=True)
class KnownSelection:
    """A selection the caller has already explained: reused when the run makes the same one.

    Attributes
    ----------
    candidates : DataFrame
        The candidates it was made from (any column order; ``CANDIDATE_COLUMNS`` are compared).
    policy_sha256 : str
        ``Policy.sha256`` of its policy.
    selected : frozenset of str
        The selected case ids.
    objective : float
        The allocation's objective (expected improvements).
    reasons : DataFrame
        ``explain_selection`` of it: case_id, selected, reason, score_to_enter, displaced_by.
    """

    candidates: pd.DataFrame
    policy_sha256: str
    selected: frozenset[str]
    objective: float
    reasons: pd.DataFrame


def _explainer(known: KnownSelection, fallback: Any = None) -> Any:
    """``known.reasons`` when the run makes exactly that selection, else ``fallback`` (default
    ``explain_selection``)."""
    from triage.audit._run import candidates_to_csv

    if fallback is None:
        from triage.allocate import explain_selection as fallback

    expected = candidates_to_csv(known.candidates)

    def explain(candidates: pd.DataFrame, policy: Any, allocation: Any) -> pd.DataFrame:
        same = (
            getattr(policy, "sha256", None) == known.policy_sha256
            and frozenset(str(c) for c in allocation.selected) == known.selected
            and float(allocation.objective or 0.0) == known.objective
            and candidates_to_csv(candidates) == expected
        )
        return known.reasons.copy() if same else fallback(candidates, policy, allocation)

    return explain


def run_selection_loaded(
    *,
    registry: Any,
    model: Any,
    history: History,
    history_counts: Mapping[str, int],
    model_dir: str | Path,
    known: KnownSelection | None = None,
    history_digest: str | None = None,
    **options: Any,
) -> RunRecord:
    """``run_selection`` scoring with ``model`` and reusing ``history`` while it is current.

    Parameters
    ----------
    registry : Registry
        Where the queue is read and the record stored.
    model : TriageModel
        The model loaded from ``model_dir`` (``triage.scoring.load_model``).
    history : History
        ``registry.history()`` as read earlier.
    history_counts : mapping of str to int
        ``triage.monitor.history_counts(registry)`` read just before ``history``.
    model_dir : str or Path
        The folder ``model`` was loaded from (recorded with the run).
    known : KnownSelection, optional
        A selection already explained (the app's cached one), reused when the run makes it;
        otherwise the ``explainer`` option (default ``explain_selection``) explains.
    history_digest : str, optional
        ``triage.monitor.history_digest(registry)`` read just before ``history``: then a row
        edited in place since (same counts, other content) is noticed too, and the registry's
        history is read again.
    **options
        Every other argument of ``run_selection`` (policy_path, user, role, auth,
        lapse_overrides, on_progress...).
    """
    from triage.audit._run import run_selection

    if "scorer" in options or "registry" in options:
        raise ValueError(
            "`options` must not hold scorer or registry (pass model and registry). Got "
            f"{sorted(options)} instead."
        )
    if known is not None:
        options["explainer"] = _explainer(known, options.get("explainer"))
    loaded = _LoadedHistory(registry, history, history_counts, history_digest)
    return run_selection(registry=cast(Any, loaded), scorer=model, model_dir=model_dir, **options)
