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
    _first_page.clear()
    _history.clear()
    _scores.clear()
    _CASE_VIEWS.clear()
    _scored_queue.clear()
    _selection.clear()
    _allocation.clear()
    _replicates.clear()
    _engagement.clear()
    _decisions_index.clear()


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


def empty_frame(columns: list[str]) -> pd.DataFrame:
    """An empty frame with the given columns (for pages with nothing to show yet)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


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


def policy_paths() -> list[Path]:
    """The files of ``policy_options()``, in order."""
    return list(policy_options().values())


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
        hist = _history(url)
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

    hist = _history(url)
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


def selection_reasons(policy: Any) -> pd.DataFrame:
    """Each candidate's reason under ``policy`` (case_id, selected, reason, score_to_enter,
    displaced_by, p_selected, chance): the precomputed table when it was made under this policy,
    else computed."""
    page = first_page()
    stored = page.selection_for(policy.sha256) if page is not None else None
    return stored if stored is not None else allocation(policy)[1]


def allocation(policy: Any) -> tuple[Any, pd.DataFrame]:
    """The allocation under ``policy`` and each candidate's reason (``explain_selection``:
    case_id, selected, reason, score_to_enter, displaced_by); cached per policy.
    """
    return _allocation(db_url(), str(default_model_dir()), policy.to_toml())


@st.cache_data(show_spinner="Explaining the scores…", max_entries=64)
def _explanations(url: str, model_path: str, case_ids: tuple[str, ...]) -> pd.DataFrame:
    from triage.explain import explain

    queue = _scored_queue(url, model_path)
    rows = queue[queue["case_id"].isin(case_ids)]
    return explain(_model(model_path), rows, _history(url))


def explanations(case_ids: list[str]) -> pd.DataFrame:
    """SHAP contributions (probability points) of the given cases only: SHAP costs per row,
    so the whole queue's are read from the warm-up's table once it is ready."""
    ready = _CASE_VIEWS.get(("explain", db_url(), str(default_model_dir())))
    if ready is not None:
        return ready[ready["case_id"].isin(case_ids)].reset_index(drop=True)
    return _explanations(db_url(), str(default_model_dir()), tuple(sorted(case_ids)))


#: The whole queue's SHAP table and what-if scores, computed once by the warm-up thread so the
#: Case page reads a new case instead of computing it (scores do not change with a run).
_CASE_VIEWS: dict[tuple[str, ...], pd.DataFrame] = {}
WHAT_IF_MANDATES = tuple(range(1, 9))


def _precompute_case_views(url: str, model_path: str) -> None:
    from triage.explain import explain

    queue = _scored_queue(url, model_path)
    model, hist = _model(model_path), _history(url)
    if ("explain", url, model_path) not in _CASE_VIEWS:
        _CASE_VIEWS[("explain", url, model_path)] = explain(model, queue, hist)
    if ("what_if", url, model_path) not in _CASE_VIEWS:
        rows = queue.drop(columns=["score", "lower", "upper", "status"])
        frames = []
        for n in WHAT_IF_MANDATES:
            copy = rows.copy()
            copy["case_id"] = [f"{c}#{n}" for c in rows["case_id"]]
            copy["n_mandates"] = pd.array([n] * len(rows), dtype="Int64")
            frames.append(copy)
        scored = model.predict(pd.concat(frames, ignore_index=True), hist)
        parts = scored["case_id"].str.rsplit("#", n=1, expand=True)
        scored = scored.assign(case_id=parts[0], n_mandates=parts[1].astype(int))
        _CASE_VIEWS[("what_if", url, model_path)] = scored


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


@st.cache_data(show_spinner=False, max_entries=256)
def _what_if(url: str, model_path: str, case_id: str, n_mandates: tuple[int, ...]) -> pd.DataFrame:
    # One copy of the case per number of mandates, each under its own id: the feature builder
    # refuses duplicate case ids (triage.scoring.what_if repeats the id; reported).
    queue = _scored_queue(url, model_path)
    row = queue[queue["case_id"] == case_id].drop(columns=["score", "lower", "upper", "status"])
    frame = pd.concat([row] * len(n_mandates), ignore_index=True)
    frame["case_id"] = [f"{case_id}#{n}" for n in n_mandates]
    frame["n_mandates"] = pd.array(list(n_mandates), dtype="Int64")
    scored = _model(model_path).predict(frame, _history(url))
    scored.insert(1, "n_mandates", list(n_mandates))
    scored["case_id"] = case_id
    return scored


def what_if(case_id: str, n_mandates: tuple[int, ...]) -> pd.DataFrame:
    """The case's score if sent with each number of mandates: n_mandates, score, lower, upper."""
    ready = _CASE_VIEWS.get(("what_if", db_url(), str(default_model_dir())))
    if ready is not None and set(n_mandates) <= set(WHAT_IF_MANDATES):
        found = ready[(ready["case_id"] == case_id) & ready["n_mandates"].isin(n_mandates)]
        if len(found) == len(n_mandates):
            cols = [
                "case_id",
                "n_mandates",
                *[c for c in found.columns if c not in ("case_id", "n_mandates")],
            ]
            return found.sort_values("n_mandates")[cols].reset_index(drop=True)
    return _what_if(db_url(), str(default_model_dir()), case_id, n_mandates)


# -- state engagement ------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _engagement(url: str) -> tuple[pd.DataFrame, dict[str, float]]:
    from triage.followup import engagement_overall, state_engagement

    hist = _history(url)
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


def _fixed_parts(policy: Any) -> tuple[Any, ...]:
    return (
        db_url(),
        str(default_model_dir()),
        policy.capacity,
        policy.max_per_country,
        tuple(sorted(policy.per_country.items())),
        policy.must_include,
        policy.exploration_share,
    )


def live_allocations(start: Any, policy: Any) -> tuple[Any, Any]:
    """The allocations under ``start`` and under ``policy``, re-solved in memory.

    One ``InteractiveAllocator`` per session (it holds solver state, so sessions never share
    it), rebuilt when capacity or country limits change; only share bands re-solve warm. Both
    allocations come from the same solver so that "enter" and "leave" are never artefacts of
    two solvers breaking ties differently.
    """
    from triage.allocate import InteractiveAllocator

    fixed = _fixed_parts(policy)
    held = st.session_state.get("_interactive")
    if held is None or held[0] != fixed:
        held = (fixed, InteractiveAllocator(candidates(), policy))
        st.session_state["_interactive"] = held
    allocator = held[1]
    if _fixed_parts(start) == fixed:
        baseline = allocator.resolve(start)
    else:
        baseline = InteractiveAllocator(candidates(), start).allocation_
    return baseline, allocator.resolve(policy)


@st.cache_data(show_spinner="Pricing each target…", max_entries=64)
def _prices(url: str, model_path: str, policy_toml: str) -> pd.DataFrame:
    from triage.allocate import Policy, price_of_balance

    cands = _candidates(_scored_queue(url, model_path))
    return price_of_balance(cands, Policy.from_toml(policy_toml))


def prices(policy: Any) -> pd.DataFrame:
    """Each target's cost in expected improvements (``triage.allocate.price_of_balance``)."""
    return _prices(db_url(), str(default_model_dir()), policy.to_toml())


@st.cache_data(show_spinner="Tracing the trade-off…", max_entries=64)
def _tradeoff(
    url: str, model_path: str, policy_toml: str, dim: str, code: str, side: str
) -> pd.DataFrame:
    from triage.allocate import Policy, tradeoff_curve

    cands = _candidates(_scored_queue(url, model_path))
    return tradeoff_curve(
        cands, Policy.from_toml(policy_toml), dimension=dim, code=code, bound=side
    )


def tradeoff(policy: Any, dim: str, code: str, side: str) -> pd.DataFrame:
    """Expected improvements as one band's bound is tightened (``tradeoff_curve``)."""
    return _tradeoff(db_url(), str(default_model_dir()), policy.to_toml(), dim, code, side)


_LATER: dict[tuple[Any, ...], Any] = {}
_LATER_LIMIT = 64


def _later(key: tuple[Any, ...], fn: Any, *args: Any) -> Any:
    """``fn(*args)`` computed on a worker thread: its result once done, else None (started).

    ``fn`` is a cached loader, so the result also lands in its cache. One worker: the solver
    work of pricing and trade-off curves never runs twice at once on a small machine.
    """
    from concurrent.futures import ThreadPoolExecutor

    pool = _LATER.get(("pool",))
    if pool is None:
        pool = _LATER[("pool",)] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="later")
    future = _LATER.get(key)
    if future is None:
        while len(_LATER) > _LATER_LIMIT:
            oldest = next(k for k in _LATER if k != ("pool",))
            _LATER.pop(oldest)
        future = _LATER[key] = pool.submit(fn, *args)
    if not future.done():
        return None
    try:
        return future.result()
    except Exception:
        _LATER.pop(key, None)
        raise


def prices_later(policy: Any) -> pd.DataFrame | None:
    """``prices(policy)`` when computed; otherwise start computing it and return None."""
    args = (db_url(), str(default_model_dir()), policy.to_toml())
    return _later(("prices", *args), _prices, *args)


def tradeoff_later(policy: Any, dim: str, code: str, side: str) -> pd.DataFrame | None:
    """``tradeoff(...)`` when computed; otherwise start computing it and return None."""
    args = (db_url(), str(default_model_dir()), policy.to_toml(), dim, code, side)
    return _later(("tradeoff", *args), _tradeoff, *args)


def save_policy(policy: Any, *, name: str, parent: Any, user: str, role: str = "staff") -> Path:
    """Write ``policy`` under a new name to ``var/policies/`` and return the file (never overwrites).

    Only roles allowed to save policies may; the name and the description are checked for
    names and contacts first.
    """
    import datetime as dt
    import re

    from triage.audit import check_free_text
    from triage.audit._roles import require
    from triage.errors import TriageError

    require(role, "save_policy")
    check_free_text(registry(), name, what="the policy name")
    check_free_text(
        registry(), str(getattr(policy, "description", "") or ""), what="the policy description"
    )

    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name.strip()).strip("-.")
    if not slug:
        raise TriageError("a policy version needs a name of letters, digits, dots or dashes.")
    folder = saved_policies_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path, n = folder / f"{slug}.toml", 1
    while path.exists():
        n += 1
        path = folder / f"{slug}-v{n}.toml"
    named = policy.with_changes(name=path.stem)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    header = (
        f"# Saved from the Targets page by {user} at {stamp}.\n"
        f"# Derived from policy {parent.name} (sha256 {parent.sha256}).\n"
    )
    path.write_text(header + named.to_toml(), encoding="utf-8")
    return path


# -- runs and overrides ----------------------------------------------------------------------


def standing_overrides() -> dict[str, dict[str, str]]:
    """Earlier overrides that a new run keeps unless they are let lapse (case: action, id)."""
    from triage.audit._run import active_overrides

    return active_overrides(registry())[0]


@st.cache_resource(show_spinner=False)
def _decisions_index(
    url: str,
) -> tuple[dict[str, str], dict[str, list[dict[str, Any]]], dict[str, str]]:
    # Read the ledger once (refresh() forgets it after a write): the latest run holding each
    # case, every override of each case in chain order, and the override standing for each
    # case (the latest one, carried into later runs until a run lets it lapse).
    from triage.audit import read_records

    latest: dict[str, str] = {}
    by_case: dict[str, list[dict[str, Any]]] = {}
    standing: dict[str, str] = {}
    for record in read_records(_registry(url)):
        if record.kind == "run":
            for r in record.content.get("reasons", []):
                latest[str(r["case_id"])] = str(record.record_id)
            for entry in record.content.get("overrides", {}).get("lapsed", []):
                standing.pop(str(entry["case_id"]), None)
        elif record.kind == "override":
            case_id = str(record.content.get("case_id"))
            by_case.setdefault(case_id, []).append(
                {
                    "id": str(record.record_id),
                    "time": str(record.created_at),
                    "user": str(record.user),
                    "role": str(record.role),
                    "run_id": str(record.content.get("run_id")),
                    "action": str(record.content.get("action")),
                    "reason": str(record.content.get("reason", "")),
                }
            )
            standing[case_id] = str(record.record_id)
    return latest, by_case, standing


def latest_run_for(case_id: str) -> str | None:
    """The most recent recorded run in which ``case_id`` was a candidate, if any."""
    return _decisions_index(db_url())[0].get(case_id)


def effective_overrides() -> dict[str, dict[str, Any]]:
    """The override in force for each case: its latest override, which later runs carry
    forward until one lets it lapse. Keys: id, time, user, role, run_id, action, reason."""
    _, by_case, standing = _decisions_index(db_url())
    out = {}
    for case_id, override_id in standing.items():
        found = [o for o in by_case.get(case_id, []) if o["id"] == override_id]
        if found:
            out[case_id] = found[-1]
    return out


def overrides(case_id: str) -> pd.DataFrame:
    """Every override recorded for a case: Override, Time (UTC), User, Role, Run, Action, Reason."""
    rows = [
        {
            "Override": o["id"],
            "Time (UTC)": o["time"][:19].replace("T", " "),
            "User": o["user"],
            "Role": o["role"],
            "Run": o["run_id"],
            "Action": {"select": "Take up", "drop": "Do not take up"}.get(o["action"], o["action"]),
            "Reason": o["reason"],
        }
        for o in _decisions_index(db_url())[1].get(case_id, [])
    ]
    return pd.DataFrame(
        rows, columns=["Override", "Time (UTC)", "User", "Role", "Run", "Action", "Reason"]
    )


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


# -- warm-up ---------------------------------------------------------------------------------

_WARMING: dict[str, Any] = {}


def _warm(url: str, model_path: str, policy_toml: str | None) -> None:
    try:
        import triage.explain  # noqa: F401  (SHAP is the slowest import; the Case page needs it)

        _model(model_path)  # parsing the bootstrap boosters takes seconds; Case needs the model
        _engagement(url)
        if policy_toml is not None:
            _allocation(url, model_path, policy_toml)
        _precompute_case_views(url, model_path)
    except Exception:
        return


def warm_up() -> None:
    """Start filling the slow caches (SHAP import, policy reasons, state records) in the
    background, once per registry: the first page shows scores while these finish."""
    import threading

    url = db_url()
    if url in _WARMING:
        return
    path = default_policy_path()
    policy_toml = None
    if path.exists():
        try:
            from triage.allocate import Policy

            policy_toml = Policy.from_toml(path.read_text(encoding="utf-8")).to_toml()
        except Exception:
            policy_toml = None
    thread = threading.Thread(
        target=_warm,
        args=(url, str(default_model_dir()), policy_toml),
        daemon=True,
        name="triage-warm-up",
    )
    _WARMING[url] = thread
    thread.start()
