"""The Targets page's live solves: the selection under targets being edited, priced in the background.

Every function here only calls ``triage``. A band change re-solves warm in the session's own
``InteractiveAllocator``; solves are remembered per session by the targets' canonical text, so
going back to earlier values shows at once. Pricing and trade-off curves run on one worker
thread; a newer change of the same session withdraws the requests it has not started.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pandas as pd
import streamlit as st
from _data import candidates, default_model_dir, saved_policies_dir
from _data import registry as _registry_of_app

from triage.config import db_url

__all__ = ["live_allocations", "prices_later", "save_policy", "tradeoff_later"]

#: Solves kept per session (each a few kB): every value a slider passed through recently.
_SOLVES_KEPT = 64


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
    two solvers breaking ties differently; each is solved once per session and remembered.
    """
    from triage.allocate import InteractiveAllocator

    fixed = _fixed_parts(policy)
    held = st.session_state.get("_interactive")
    if held is None or held[0] != fixed:
        held = (fixed, InteractiveAllocator(candidates(), policy), OrderedDict())
        st.session_state["_interactive"] = held
    _, allocator, solved = held

    def solve(p: Any) -> Any:
        text = p.to_toml()
        if text not in solved:
            solved[text] = allocator.resolve(p)
            while len(solved) > _SOLVES_KEPT:
                solved.popitem(last=False)
        solved.move_to_end(text)
        return solved[text]

    if _fixed_parts(start) == fixed:
        baseline = solve(start)
    else:  # another capacity or country limit: the starting policy's own solve, kept
        kept = st.session_state.get("_interactive_start")
        if kept is None or kept[0] != (start.to_toml(), _fixed_parts(start)):
            allocation = InteractiveAllocator(candidates(), start).allocation_
            kept = ((start.to_toml(), _fixed_parts(start)), allocation)
            st.session_state["_interactive_start"] = kept
        baseline = kept[1]
    return baseline, solve(policy)


@st.cache_data(show_spinner=False, max_entries=64)
def _prices(url: str, model_path: str, policy_toml: str) -> pd.DataFrame:
    from triage.allocate import Policy, price_of_balance

    return price_of_balance(candidates(), Policy.from_toml(policy_toml))


@st.cache_data(show_spinner=False, max_entries=64)
def _tradeoff(
    url: str, model_path: str, policy_toml: str, dim: str, code: str, side: str
) -> pd.DataFrame:
    from triage.allocate import Policy, tradeoff_curve

    return tradeoff_curve(
        candidates(), Policy.from_toml(policy_toml), dimension=dim, code=code, bound=side
    )


_LATER: dict[tuple[Any, ...], Future[Any]] = {}
_LATEST: dict[tuple[str, str], tuple[Any, ...]] = {}
_POOL: list[ThreadPoolExecutor] = []
_LATER_LIMIT = 64
#: Seconds a request waits on the worker before it starts: a slider still moving replaces it,
#: and the page's own re-solve and redraw never compete with pricing for the processor.
_QUIET = 0.5
_SUPERSEDED = object()


def _session() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else ""


def _later(kind: str, fn: Any, *args: Any) -> Any:
    """``fn(*args)`` computed on the worker thread: its result once done, else None (started).

    ``fn`` is a cached loader, so the result also lands in its cache. One worker: the solver
    work of pricing and trade-off curves never runs twice at once on a small machine. A new
    request withdraws the same session's requests of the same kind that have not started,
    and a request waits ``_QUIET`` seconds before it starts, so moving a slider through ten
    values prices the last one only.
    """
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="later"))
    session = _session()
    key = (kind, *args)
    _LATEST[(kind, session)] = key

    def job() -> Any:
        time.sleep(_QUIET)
        if _LATEST.get((kind, session)) != key:
            return _SUPERSEDED  # a newer change of this session came in meanwhile
        return fn(*args)

    future = _LATER.get(key)
    if (
        future is not None
        and future.done()
        and future.exception() is None
        and future.result() is _SUPERSEDED
    ):
        future = None  # asked for again: compute it after all
    if future is None or future.cancelled():
        for other, queued in list(_LATER.items()):
            mine = other[0] == kind and getattr(queued, "session", None) == session
            if mine and queued.cancel():
                _LATER.pop(other, None)
        while len(_LATER) >= _LATER_LIMIT:
            _LATER.pop(next(iter(_LATER)))
        future = _LATER[key] = _POOL[0].submit(job)
        future.session = session  # type: ignore[attr-defined]
    if not future.done():
        return None
    try:
        result = future.result()
    except Exception:
        _LATER.pop(key, None)
        raise
    return None if result is _SUPERSEDED else result


def prices_later(policy: Any) -> pd.DataFrame | None:
    """What each target costs (``price_of_balance``) when computed; else start it, None."""
    return _later("prices", _prices, db_url(), str(default_model_dir()), policy.to_toml())


def tradeoff_later(policy: Any, dim: str, code: str, side: str) -> pd.DataFrame | None:
    """One band's trade-off curve (``tradeoff_curve``) when computed; else start it, None."""
    args = (db_url(), str(default_model_dir()), policy.to_toml(), dim, code, side)
    return _later("tradeoff", _tradeoff, *args)


def save_policy(policy: Any, *, name: str, parent: Any, user: str, role: str) -> Any:
    """Write ``policy`` as a new version in ``var/policies/`` (``save_policy_version``)."""
    from triage.audit._policy_store import save_policy_version

    return save_policy_version(
        policy,
        name=name,
        parent=parent,
        user=user,
        role=role,
        folder=saved_policies_dir(),
        registry=_registry_of_app(),
    )
