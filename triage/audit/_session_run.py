"""Recording a selection run with what a session has already loaded: the model and the history.

The app holds the parsed model and the registry's history in memory; parsing the model's
bootstrap boosters and rebuilding the history take seconds that ``run_selection`` would spend
again. ``run_selection_loaded`` hands them in: the model as the scorer (its version, sha256 and
integrity are recorded as ``load_model`` would give them), and the history through a view of
the registry that serves it only while the tables a history is built from hold the same rows
as when it was read (otherwise the registry is read again). Everything else, including the
record, is ``run_selection``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from triage.audit._run import RunRecord
    from triage.schema import History

__all__ = ["run_selection_loaded"]


class _LoadedHistory:
    """The registry, whose ``history()`` is the one already read while it is still current."""

    def __init__(self, registry: Any, history: History, counts: Mapping[str, int]) -> None:
        self._registry = registry
        self._history = history
        self._counts = dict(counts)

    def history(self) -> History:
        from triage.monitor._case_views import history_counts

        if history_counts(self._registry) == self._counts:
            return self._history
        return cast("History", self._registry.history())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._registry, name)


def run_selection_loaded(
    *,
    registry: Any,
    model: Any,
    history: History,
    history_counts: Mapping[str, int],
    model_dir: str | Path,
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
    loaded = _LoadedHistory(registry, history, history_counts)
    return run_selection(registry=cast(Any, loaded), scorer=model, model_dir=model_dir, **options)
