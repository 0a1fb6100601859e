"""Cached loaders: the registry, its history and queue, the default model and the default policy.

Every function here only calls ``triage``; Streamlit caches the results so that a page load
or a widget change does not re-read the database or re-score the queue. Writes (an override,
a run, a saved policy) call ``refresh()`` so the next read sees them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from triage.config import db_url, models_dir, policies_dir
from triage.schema import History

__all__ = [
    "default_policy_path",
    "history",
    "refresh",
    "registry",
]


def default_policy_path() -> Path:
    """The policy the app starts from: ``policies/default.toml``."""
    return policies_dir() / "default.toml"


def default_model_dir() -> Path:
    """The model the app scores with: ``models/default``."""
    return models_dir() / "default"


@st.cache_resource(show_spinner=False)
def _registry(url: str) -> Any:
    from triage.registry import Registry

    return Registry(url).init()


def registry() -> Any:
    """The registry at ``triage.config.db_url()`` (one per URL, shared by all sessions)."""
    return _registry(db_url())


@st.cache_resource(show_spinner="Reading the registry…")
def _history(url: str) -> History:
    return _registry(url).history()


def history() -> History:
    """The registry's history (typed like ``read_history``); shared, never mutate it."""
    return _history(db_url())


def refresh() -> None:
    """Forget cached registry reads after a write (an override, a run, a new policy)."""
    _history.clear()


def is_simulated() -> bool:
    """Whether the registry holds simulated data (then every page shows the banner)."""
    return bool(history().simulated)


def empty_frame(columns: list[str]) -> pd.DataFrame:
    """An empty frame with the given columns (for pages with nothing to show yet)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


# -- policies --------------------------------------------------------------------------------


def saved_policies_dir() -> Path:
    """Where the Targets page saves new policy versions (``var/policies/``, machine-local)."""
    from triage.config import var_dir

    return var_dir() / "policies"


def policy_paths() -> list[Path]:
    """Every policy the app can use: the shipped ones, then versions saved from Targets."""
    shipped = sorted(policies_dir().glob("*.toml"))
    saved = sorted(saved_policies_dir().glob("*.toml")) if saved_policies_dir().is_dir() else []
    default = default_policy_path()
    ordered = [default] if default in shipped else []
    return ordered + [p for p in shipped if p != default] + saved


@st.cache_data(show_spinner=False)
def policy_text(path: str, mtime: float) -> str:
    """The text of a policy file (keyed on its modification time)."""
    return Path(path).read_text(encoding="utf-8")


def load_policy(path: Path) -> Any:
    """The validated ``Policy`` of a file."""
    from triage.allocate import Policy

    return Policy.from_toml(policy_text(str(path), path.stat().st_mtime), source=path.name)


def current_policy_path() -> Path:
    """The policy chosen in this session (default ``policies/default.toml``)."""
    chosen = st.session_state.get("policy_path")
    paths = policy_paths()
    for p in paths:
        if str(p) == chosen:
            return p
    return paths[0] if paths else default_policy_path()


# -- scoring ---------------------------------------------------------------------------------


@st.cache_resource(show_spinner="Loading the model…")
def _model(path: str) -> Any:
    from triage.scoring import load_model

    return load_model(path)


def model() -> Any:
    """The default model (``models/default``)."""
    return _model(str(default_model_dir()))


def _statuses(url: str) -> pd.DataFrame:
    from sqlalchemy import select

    from triage.registry import Submission

    query = select(Submission.submission_id, Submission.case_id, Submission.status).where(
        Submission.origin.in_(("queue", "intake"))
    )
    with _registry(url).engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    frame = pd.DataFrame(rows, columns=["submission_id", "case_id", "status"])
    frame["case_id"] = frame["case_id"].fillna(frame["submission_id"])
    return frame[["case_id", "status"]]


@st.cache_resource(show_spinner="Scoring the queue…")
def _scored_queue(url: str, model_path: str) -> pd.DataFrame:
    hist = _history(url)
    queue = hist.queue if hist.queue is not None else _registry(url).queue()
    scores = _model(model_path).predict(queue, hist)
    out = queue.merge(scores, on="case_id", how="left", validate="one_to_one")
    out = out.merge(_statuses(url), on="case_id", how="left", validate="one_to_one")
    return out


def scored_queue() -> pd.DataFrame:
    """Every incoming case with its status and score: QUEUE_COLUMNS + status, score, lower, upper.

    Holds names (``defender_name``, ``source_contact``); pages redact before showing.
    """
    return _scored_queue(db_url(), str(default_model_dir()))


def candidates() -> pd.DataFrame:
    """The cases awaiting a decision (status ``eligible``), scored: the allocator's input."""
    queue = scored_queue()
    return queue[queue["status"].eq("eligible")].reset_index(drop=True)


@st.cache_resource(show_spinner="Selecting under the policy…", max_entries=32)
def _allocation(url: str, model_path: str, policy_toml: str) -> tuple[Any, pd.DataFrame]:
    from triage.allocate import Policy, allocate, explain_selection

    queue = _scored_queue(url, model_path)
    cands = queue[queue["status"].eq("eligible")].reset_index(drop=True)
    policy = Policy.from_toml(policy_toml)
    allocation = allocate(cands, policy)
    reasons = explain_selection(cands, policy, allocation)
    return allocation, reasons


def allocation(policy: Any) -> tuple[Any, pd.DataFrame]:
    """The allocation of the candidates under ``policy`` and each case's reason, cached."""
    return _allocation(db_url(), str(default_model_dir()), policy.to_toml())


@st.cache_data(show_spinner="Explaining the scores…", max_entries=64)
def _explanations(url: str, model_path: str, case_ids: tuple[str, ...]) -> pd.DataFrame:
    from triage.explain import explain

    queue = _scored_queue(url, model_path)
    rows = queue[queue["case_id"].isin(case_ids)]
    return explain(_model(model_path), rows, _history(url))


def explanations(case_ids: list[str]) -> pd.DataFrame:
    """SHAP contributions (probability points) of the given cases only: SHAP costs per row."""
    return _explanations(db_url(), str(default_model_dir()), tuple(sorted(case_ids)))


def reasons(case_ids: list[str], top: int = 3) -> pd.DataFrame:
    """Plain-language top reasons (case_id, rank, text) for the given cases."""
    from triage.explain import reasons as _reasons

    if not case_ids:
        return pd.DataFrame(columns=["case_id", "rank", "text"])
    return _reasons(explanations(case_ids), top=top)
