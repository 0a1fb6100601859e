"""Cached loaders: the registry, its history and queue, the default model and the default policy.

Every function here only calls ``triage``; Streamlit caches the results so that a page load
or a widget change does not re-read the database or re-score the queue. A recorded run or
override calls ``after_run()``, which forgets what it changed (statuses and the ledger) and only
that. The Targets page's live solves are in ``_live``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from triage.config import db_url, models_dir, policies_dir
from triage.schema import History


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
def _history_read(url: str) -> tuple[History, dict[str, int], str]:
    from triage.monitor import history_counts, history_digest

    # Before the read: a write in between then makes them differ, and a run reads again.
    counts, digest = history_counts(_registry(url)), history_digest(_registry(url))
    return _registry(url).history(), counts, digest


def history() -> History:
    """The registry's history (typed like ``read_history``); shared, never mutate it."""
    return _history_read(db_url())[0]


def after_run() -> None:
    """Forget what a recorded selection run changed, and only that: the statuses and the
    ledger. The queue's scores, the candidates (selected and not selected cases stay
    candidates) and the policy's allocation are unchanged, so they are kept: the pages show
    the run at once instead of re-scoring and re-explaining the queue."""
    _first_page.clear()
    _scored_queue.clear()
    _decisions_index.clear()


def is_simulated() -> bool:
    """Whether the registry holds simulated data (then every page shows the banner)."""
    page = first_page()
    return bool(page.simulated) if page is not None else bool(history().simulated)


# -- the precomputed first page --------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _first_page(url: str, model_path: str) -> tuple[Any, pd.DataFrame]:
    from triage.monitor import current_key, read_first_page

    key, submissions = current_key(_registry(url), model_dir=Path(model_path))
    return read_first_page(key=key), submissions


def first_page() -> Any:
    """The first page ``triage demo prepare`` stored (``triage.monitor.FirstPage``) when it
    matches the registry and the model as they are now; None otherwise (then pages compute)."""
    return _first_page(db_url(), str(default_model_dir()))[0]


def model_version() -> str:
    """The version of the scoring model (its folder name), without loading the model."""
    return default_model_dir().name


# -- policies --------------------------------------------------------------------------------


def saved_policies_dir() -> Path:
    """Where the Targets page saves new policy versions (``var/policies/``, machine-local)."""
    from triage.config import var_dir

    return var_dir() / "policies"


def policy_options() -> dict[str, Path]:
    """Every policy the app can use, by label: ``default.toml`` and the other shipped files
    first, then ``saved/<name>.toml`` for versions saved from Targets.
    """
    shipped = sorted(
        policies_dir().glob("*.toml"), key=lambda p: (p != default_policy_path(), p.name)
    )
    folder = saved_policies_dir()
    saved = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    return {p.name: p for p in shipped} | {f"saved/{p.name}": p for p in saved}


@st.cache_data(show_spinner=False)
def policy_text(path: str, mtime: float) -> str:
    """The text of a policy file (keyed on its modification time)."""
    return Path(path).read_text(encoding="utf-8")


def load_policy(path: Path) -> Any:
    """The validated ``Policy`` of a file."""
    from triage.allocate import Policy

    return Policy.from_toml(policy_text(str(path), path.stat().st_mtime), source=path.name)


def current_policy_path() -> Path:
    """The policy chosen in the sidebar (``?policy=``), default ``policies/default.toml``."""
    options = policy_options()
    chosen = st.session_state.get("policy", st.session_state.get("_keep_policy"))
    if chosen is None and st.query_params.get("policy"):
        chosen = st.query_params.get("policy")
    if chosen in options:
        return options[chosen]
    return next(iter(options.values()), default_policy_path())


# -- scoring ---------------------------------------------------------------------------------


@st.cache_resource(show_spinner="Loading the model…")
def _model(path: str) -> Any:
    from triage.scoring import load_model

    return load_model(path)


def model() -> Any:
    """The default model (``models/default``)."""
    return _model(str(default_model_dir()))


def _statuses(url: str, model_path: str) -> pd.DataFrame:
    # Every submission's current status (Registry.queue with every status, read once with the
    # cache key); the left merge onto the incoming queue keeps incoming cases only.
    submissions = _first_page(url, model_path)[1]
    return submissions.drop_duplicates("case_id", keep="last")[["case_id", "status"]]


@st.cache_resource(show_spinner="Scoring the queue…")
def _scores(url: str, model_path: str) -> pd.DataFrame:
    # The incoming queue and its scores, without statuses: a recorded run changes statuses
    # only, so it keeps these (after_run) instead of re-scoring the queue.
    page, submissions = _first_page(url, model_path)
    if page is not None:
        # The key matched: the submissions are exactly those the stored scores were computed
        # on, so the incoming queue is the scored subset, in registry order.
        incoming = submissions[submissions["case_id"].isin(page.scores["case_id"])]
        queue = incoming.drop(columns="status").reset_index(drop=True)
        scores = page.scores
    else:
        hist = _history_read(url)[0]
        queue = hist.queue if hist.queue is not None else _registry(url).queue()
        scores = _model(model_path).predict(queue, hist)
    return queue.merge(scores, on="case_id", how="left", validate="one_to_one")


@st.cache_resource(show_spinner=False)
def _scored_queue(url: str, model_path: str) -> pd.DataFrame:
    out = _scores(url, model_path)
    return out.merge(_statuses(url, model_path), on="case_id", how="left", validate="one_to_one")


def scored_queue() -> pd.DataFrame:
    """Every incoming case with its status and score: QUEUE_COLUMNS + status, score, lower, upper.

    Holds names (``defender_name``, ``source_contact``); pages redact before showing.
    """
    return _scored_queue(db_url(), str(default_model_dir()))


#: Statuses of incoming cases the selection still decides: a decision may be revised (a later
#: run, an override) until the communication is sent.
CANDIDATE_STATUSES = ("eligible", "selected", "not_selected")


def _candidates(queue: pd.DataFrame) -> pd.DataFrame:
    return queue[queue["status"].isin(CANDIDATE_STATUSES)].reset_index(drop=True)


def candidates() -> pd.DataFrame:
    """The incoming cases the selection decides (CANDIDATE_STATUSES), scored: the allocator's input."""
    return _candidates(scored_queue())


@st.cache_resource(show_spinner="Selecting under the policy…", max_entries=32)
def _selection(url: str, model_path: str, policy_toml: str) -> Any:
    from triage.allocate import Policy, allocate

    cands = _candidates(_scored_queue(url, model_path))
    return allocate(cands, Policy.from_toml(policy_toml))


def selection(policy: Any) -> Any:
    """The allocation of the candidates under ``policy`` (fast; cached per policy)."""
    return _selection(db_url(), str(default_model_dir()), policy.to_toml())


@st.cache_resource(show_spinner="Re-scoring under the model's replicates…")
def _replicates(url: str, model_path: str) -> pd.DataFrame:
    # One row per incoming case, one column per bootstrap replicate of the model.
    from triage.features import build_features

    hist = _history_read(url)[0]
    queue = _scored_queue(url, model_path)
    features = build_features(queue.drop(columns=["score", "lower", "upper", "status"]), hist)
    return pd.DataFrame(
        _model(model_path).member_scores(features), index=queue["case_id"].to_numpy()
    )


@st.cache_resource(show_spinner="Explaining each decision…", max_entries=32)
def _allocation(url: str, model_path: str, policy_toml: str) -> tuple[Any, pd.DataFrame]:
    from triage.allocate import Policy, explain_selection, selection_chances

    cands = _candidates(_scored_queue(url, model_path))
    allocation = _selection(url, model_path, policy_toml)
    policy = Policy.from_toml(policy_toml)
    why = explain_selection(cands, policy, allocation)
    reps = _replicates(url, model_path).loc[cands["case_id"]].to_numpy()
    chances = selection_chances(cands, policy, reps).by_case
    return allocation, why.merge(chances, on="case_id", how="left", validate="one_to_one")


def stored_selection(policy: Any) -> pd.DataFrame | None:
    """The precomputed reasons under ``policy`` (as ``selection_reasons``) when stored, else None."""
    page = first_page()
    return page.selection_for(policy.sha256) if page is not None else None


def selection_reasons(policy: Any) -> pd.DataFrame:
    """Each candidate's reason under ``policy`` (case_id, selected, reason, score_to_enter,
    displaced_by, p_selected, chance): the precomputed table when it was made under this policy,
    else computed."""
    stored = stored_selection(policy)
    return stored if stored is not None else allocation(policy)[1]


def allocation(policy: Any) -> tuple[Any, pd.DataFrame]:
    """The allocation under ``policy`` and each candidate's reason (``explain_selection``:
    case_id, selected, reason, score_to_enter, displaced_by); cached per policy.
    """
    return _allocation(db_url(), str(default_model_dir()), policy.to_toml())


@st.cache_resource(show_spinner=False)
def _case_views(url: str, model_path: str) -> Any:
    from triage.monitor import case_views_key, read_case_views

    return read_case_views(key=case_views_key(_registry(url), model_dir=Path(model_path)))


def case_views() -> Any:
    """The Case page's views ``triage demo prepare`` stored (``triage.monitor.CaseViews``) when
    they match the registry and the model as they are now; None otherwise (then pages compute)."""
    return _case_views(db_url(), str(default_model_dir()))


@st.cache_data(show_spinner="Explaining the score…", max_entries=64)
def _explanations(url: str, model_path: str, case_ids: tuple[str, ...]) -> pd.DataFrame:
    from triage.explain import explain

    queue = _scored_queue(url, model_path)
    rows = queue[queue["case_id"].isin(case_ids)]
    return explain(_model(model_path), rows, _history_read(url)[0])


def explanations(case_ids: list[str]) -> pd.DataFrame:
    """SHAP contributions (probability points) of the given cases: the stored ones when the
    Case page's views are current, else computed for these cases only."""
    views = case_views()
    stored = views.contributions_of(case_ids) if views is not None else None
    if stored is not None:
        return stored
    return _explanations(db_url(), str(default_model_dir()), tuple(sorted(case_ids)))


def reasons_stored(case_ids: list[str], policy: Any) -> bool:
    """Whether the cases' top reasons and the policy's reasons are precomputed (then the Queue
    draws its table once, complete, instead of first without them)."""
    page = first_page()
    return (
        page is not None
        and stored_selection(policy) is not None
        and set(case_ids) <= set(page.reasons["case_id"])
    )


def reasons(case_ids: list[str], top: int = 3) -> pd.DataFrame:
    """Plain-language top reasons (case_id, rank, text) for the given cases (stored ones when
    the precomputed first page is current: no SHAP import)."""
    if not case_ids:
        return pd.DataFrame(columns=["case_id", "rank", "text"])
    page = first_page()
    if page is not None and top <= 3 and set(case_ids) <= set(page.reasons["case_id"]):
        stored = page.reasons[
            page.reasons["case_id"].isin(case_ids) & (page.reasons["rank"] <= top)
        ]
        return stored.reset_index(drop=True)
    from triage.explain import reasons as _reasons

    return _reasons(explanations(case_ids), top=top)


@st.cache_data(show_spinner="Scoring the alternatives…", max_entries=256)
def _what_if(url: str, model_path: str, case_id: str, n_mandates: tuple[int, ...]) -> pd.DataFrame:
    from triage.scoring import what_if as _score

    queue = _scored_queue(url, model_path)
    row = queue[queue["case_id"] == case_id].drop(columns=["score", "lower", "upper", "status"])
    return _score(_model(model_path), row, _history_read(url)[0], n_mandates=n_mandates)


def what_if(case_id: str, n_mandates: tuple[int, ...]) -> pd.DataFrame:
    """The case's score if sent with each number of mandates: n_mandates, score, lower, upper."""
    views = case_views()
    stored = views.what_if_of(case_id, n_mandates) if views is not None else None
    if stored is not None:
        return stored
    return _what_if(db_url(), str(default_model_dir()), case_id, n_mandates)


@st.cache_resource(show_spinner=False)
def _engagement(url: str) -> tuple[pd.DataFrame, dict[str, float]]:
    from triage.followup import engagement_overall, state_engagement

    hist = _history_read(url)[0]
    return state_engagement(hist), engagement_overall(hist)


def engagement() -> pd.DataFrame:
    """Every state's reply record (``triage.followup.state_engagement``)."""
    return _engagement(db_url())[0]


def country_record(iso3: str) -> pd.Series | None:
    """One state's reply record, or None without any case for it."""
    table = engagement()
    found = table[table["country"] == iso3]
    return None if found.empty else found.iloc[0]


def overall_record() -> dict[str, float]:
    """The reply record over all states."""
    return _engagement(db_url())[1]


def standing_overrides() -> dict[str, dict[str, str]]:
    """Earlier overrides that a new run keeps unless they are let lapse (case: action, id)."""
    from triage.audit._run import active_overrides

    return active_overrides(registry())[0]


@st.cache_resource(show_spinner=False)
def _decisions_index(url: str) -> Any:
    # The ledger read once (after_run() forgets it after a write).
    from triage.audit._decisions import decision_index

    return decision_index(_registry(url))


def latest_run_for(case_id: str) -> str | None:
    """The most recent recorded run in which ``case_id`` was a candidate, if any."""
    return _decisions_index(db_url()).latest_run.get(case_id)


def effective_overrides() -> dict[str, dict[str, Any]]:
    """The override in force for each case (id, time, user, role, run_id, action, reason)."""
    return dict(_decisions_index(db_url()).effective())


def overrides(case_id: str) -> pd.DataFrame:
    """Every override recorded for a case: Override, Time (UTC), User, Role, Run, Action, Reason."""
    return _decisions_index(db_url()).override_table(case_id)


def record_override(
    case_id: str, action: str, reason: str, *, user: str, role: str, auth: str = "demo"
) -> str:
    """Record a staff override against the latest run holding the case; return the record id."""
    from triage.audit import record_override as _record
    from triage.errors import TriageError

    run_id = latest_run_for(case_id)
    if run_id is None:
        raise TriageError(
            f"case {case_id} is in no recorded selection run yet; record a run on the Selection "
            "page first, then override its decision."
        )
    record = _record(
        registry(),
        run_id=run_id,
        case_id=case_id,
        action=action,
        reason=reason,
        user=user,
        role=role,
        auth=auth,
    )
    after_run()  # statuses and the ledger changed; scores and candidates did not
    return str(record.record_id)


def record_run(
    policy_path: Path,
    *,
    user: str,
    role: str,
    auth: str,
    lapse_overrides: bool,
    on_progress: Any = None,
) -> Any:
    """Record a selection run (``triage.audit.run_selection``) with the session's model and
    history, then forget what it changed (``after_run``); return the ``RunRecord``."""
    from triage.audit._session_run import KnownSelection, run_selection_loaded

    hist, counts, digest = _history_read(db_url())
    policy = load_policy(policy_path)
    shown, why = allocation(policy)  # what the Selection page shows: reused if the run agrees
    run = run_selection_loaded(
        registry=registry(),
        model=model(),
        history=hist,
        history_counts=counts,
        history_digest=digest,
        model_dir=default_model_dir(),
        known=KnownSelection(
            candidates=candidates(),
            policy_sha256=policy.sha256,
            selected=frozenset(str(c) for c in shown.selected),
            objective=float(shown.objective or 0.0),
            reasons=why,
        ),
        policy_path=policy_path,
        user=user,
        role=role,
        auth=auth,
        lapse_overrides=lapse_overrides,
        on_progress=on_progress,
    )
    after_run()
    return run
