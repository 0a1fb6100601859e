"""Why each case is in or out: a plain sentence, the exact score to enter, and who it would displace.

score_to_enter for a case j left out is ``z* - V_j``, where ``z*`` is the optimum and ``V_j`` the
best total of the *other* selected scores when j is forced in. Raising j's score above it makes
every selection containing j beat ``z*``; below it, none does. ``V_j`` is solved exactly: a warm
LP on the in-memory model, priced out over every candidate, then the integer program when the LP
is fractional. Candidates left out of the core with identical constraint rows share one solve,
once a dual check proves they share the answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from triage.allocate._allocation import Allocation, TieDraw
from triage.allocate._engine import Engine, LPResult
from triage.allocate._policy import Policy
from triage.allocate._present import constraint_phrase
from triage.allocate._problem import Problem, Row, build_problem, column_patterns, subproblem

__all__ = ["explain_selection"]

_TOL = 1e-9
_IDLE_HEURISTICS = (
    "mip_heuristic_run_feasibility_jump",
    "mip_heuristic_run_root_reduced_cost",
    "mip_heuristic_run_rins",
    "mip_heuristic_run_rens",
)


def _fmt(x: float, other: float | None = None) -> str:
    """A score as a percentage, with as many decimals as it takes to differ from ``other``.

    A reason that sets a score against a bar must never print the two as equal when they are
    not, nor call one "below" a bar it equals (the caller checks the second).
    """
    for decimals in range(1, 7):
        text = f"{100 * x:.{decimals}f}%"
        if other is None or other == x or text != f"{100 * other:.{decimals}f}%":
            return text
    return f"{100 * x:.6f}%"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _tie_sentence(tie: TieDraw, case_id: str, seed: int, *, selected: bool) -> str:
    """Why a case in a split tie is in or out: the lottery's draw, in words."""
    n = len(tie.draw_order)
    pos = tie.draw_order.index(case_id) + 1
    places = "place" if tie.places == 1 else "places"
    head = (
        f"tied with {n - 1} other case{'s' if n > 2 else ''} at {_fmt(tie.score)}; the "
        f"{tie.places} {places} the targets leave among them were drawn by lot"
    )
    where = f"(seed {seed}; the draw order is recorded with the run)"
    if selected:
        return f"Selected: {head}, and it was drawn {_ordinal(pos)} of {n} {where}."
    return f"Not selected: {head}, and it was drawn {_ordinal(pos)} of {n} {where}."


def _phrase(row: Row, policy: Policy) -> str:
    return constraint_phrase(row.name, target=row.target, policy=policy)


def _names(rows: Iterable[Row]) -> str:
    # The exact constraint names close the sentence so auditors can match them to the
    # allocation's constraints table.
    return f" [{'; '.join(r.name for r in rows)}]"


Swap = Callable[[int], "tuple[float, np.ndarray] | None"]


def _solve_forced(
    eng: Engine, j: int, swap: Swap | None = None
) -> tuple[float, np.ndarray | None, LPResult | None]:
    """Return (V_j, selection with j forced, LP) or (-inf, None, None) if j cannot be selected."""
    core_before = eng.core.copy()
    try:
        return _solve_forced_inner(eng, j, swap)
    finally:
        # An infeasible forced solve pulls every candidate into the model; go back to the
        # small core so the next solves stay fast.
        if len(core_before) and len(eng.core) > 4 * len(core_before) + 1000:
            eng._build(core_before)


def _solve_forced_inner(
    eng: Engine, j: int, swap: Swap | None
) -> tuple[float, np.ndarray | None, LPResult | None]:
    p = eng.problem
    s_j = float(p.scores[j])
    inside = eng.pos[j] >= 0
    lo, hi = eng.lo.copy(), eng.hi.copy()
    col = p.csc[:, j].toarray().ravel()
    if inside:
        eng.set_col_bounds(np.array([j]), np.array([1.0]), np.array([1.0]))
    else:
        eng.set_row_bounds(lo - col, hi - col)
    try:
        lp = eng.solve_lp(exclude=None if inside else j)
        bound = lp.objective - (s_j if inside else 0.0)  # an upper bound on V_j
        if lp.status == "optimal" and not lp.integral and swap is not None:
            # With many equal scores the LP is often fractional, yet one exchange already
            # reaches its bound: then that exchange is optimal and no integer program is needed.
            best = swap(j)
            if best is not None and best[0] >= bound - 1e-9 * max(1.0, abs(bound)):
                return best[0], best[1], lp
        mip = eng.solve_mip(lp, backend="highspy", exclude=None if inside else j)
    finally:
        if inside:
            eng.set_col_bounds(np.array([j]), np.array([0.0]), np.array([1.0]))
        else:
            eng.set_row_bounds(lo, hi)
    if mip.status == "infeasible":
        return -math.inf, None, None
    if inside:
        return mip.objective - s_j, mip.x, lp
    x = mip.x.copy()
    x[j] = True
    return mip.objective, x, lp


def _fixed_mip(eng: Engine, lp: LPResult, incumbent: float) -> tuple[float, np.ndarray] | None:
    """The integer optimum by reduced-cost fixing, given a feasible total ``incumbent``.

    A selection that differs from the LP optimum in a column whose reduced cost exceeds the gap
    ``lp.objective - incumbent`` is worth less than ``incumbent``, so every optimum keeps those
    columns at their LP values; the integer program runs on the other columns only. None when
    that program is not settled (the caller solves the full one).
    """
    import highspy

    from triage.allocate._highs import _finite, new_highs

    p = eng.problem
    gap = max(lp.objective - incumbent, 0.0)
    reduced = lp.reduced
    slack = gap + 1e-9 * max(1.0, abs(lp.objective))
    one = (reduced < -slack) & (eng.col_ub > 0)
    free = np.flatnonzero(~one & ((reduced <= slack) | (eng.col_lb > 0)))
    if len(free) > 20_000:
        return None
    shift = p.matrix @ one.astype(np.float64)
    model = eng._core_lp(free)
    model.row_lower_ = _finite(eng.lo - shift)
    model.row_upper_ = _finite(eng.hi - shift)
    model.integrality_ = [highspy.HighsVarType.kInteger] * len(free)
    h = new_highs(eng.time_limit)
    # These programs close at the root node; HiGHS's primal heuristics found nothing the root LP
    # did not, and took two thirds of their time (140 programs on a 100k queue: 4.1 s, 1.4 s
    # without). Branch and bound still proves the optimum to the same gap.
    for name in _IDLE_HEURISTICS:
        h.setOptionValue(name, False)
    h.passModel(model)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    x = one.copy()
    x[free] = np.asarray(h.getSolution().col_value) > 0.5
    return float(p.scores[x].sum()), x


def _solve_pattern(eng: Engine, j: int, swap: Swap | None) -> tuple[float, np.ndarray | None]:
    """Return (W, others): the best total of K - 1 cases, any of them, with one more case of
    ``j``'s constraint pattern counted in, and their selection; (-inf, None) when none fits."""
    p = eng.problem
    core_before = eng.core.copy()
    lo, hi = eng.lo.copy(), eng.hi.copy()
    col = p.csc[:, j].toarray().ravel()
    eng.set_row_bounds(lo - col, hi - col)
    try:
        lp = eng.solve_lp()
        if lp.status == "optimal" and not lp.integral and swap is not None:
            # One exchange (j in, a selected case out) that reaches the LP bound is optimal.
            best = swap(j)
            bound = lp.objective
            if best is not None:
                others = best[1].copy()
                others[j] = False
                if best[0] >= bound - 1e-9 * max(1.0, abs(bound)):
                    return best[0], others
                fixed = _fixed_mip(eng, lp, best[0])
                if fixed is not None:
                    return fixed
        mip = eng.solve_mip(lp, backend="highspy")
    finally:
        eng.set_row_bounds(lo, hi)
        if len(core_before) and len(eng.core) > 4 * len(core_before) + 1000:
            eng._build(core_before)
    if mip.status == "infeasible":
        return -math.inf, None
    return mip.objective, mip.x


def explain_selection(
    candidates: pd.DataFrame,
    policy: Policy,
    allocation: Allocation,
    *,
    on_progress: Callable[[int, int, str], None] | None = None,
) -> pd.DataFrame:
    """Explain every candidate: case_id, selected (bool), reason (text), score_to_enter, displaced_by.

    score_to_enter is in the score's units (expected improvements) and blank (NaN) for selected
    cases and for cases that no score could bring in; displaced_by lists, ';'-separated, the
    selected cases that would leave if the case entered.
    """
    problem: Problem
    if allocation._problem is not None and allocation._x is not None:
        problem = allocation._problem
        x = allocation._x
    else:
        problem = build_problem(candidates, policy)
        x = np.isin(problem.case_ids, np.asarray(allocation.selected, dtype=str))
    n = problem.n
    out_reason = [""] * n
    to_enter = np.full(n, np.nan)
    displaced = [""] * n
    if not allocation.feasible:
        for j in range(n):
            out_reason[j] = "Not selected: the policy is infeasible, so nothing was selected."
        return _frame(problem, x, out_reason, to_enter, displaced)

    eng = Engine(problem)
    lp0 = eng.solve_lp()
    z = float(allocation.objective or 0.0)
    shadow = -lp0.y if len(lp0.y) else np.zeros(len(problem.rows))
    bar = float(shadow[0])
    mat = problem.matrix
    csc = problem.csc
    forced = set(problem.forced.tolist())
    explored = set(problem.exploration.tolist())
    n_draw = len(problem.exploration)

    tie_of = {c: t for t in allocation.ties for c in t.draw_order}
    seed = allocation.tie_seed
    selected_idx = np.flatnonzero(x)
    for j in selected_idx.tolist():
        s = problem.scores[j]
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        cid = str(problem.case_ids[j])
        if j in explored:
            out_reason[j] = (
                f"Selected at random for exploration ({n_draw} of {n} candidates, a "
                f"{n_draw / n:.1%} chance each); its score did not matter."
            )
        elif j in forced:
            out_reason[j] = "Selected: a must-include case (follow-up of an unresolved case)."
        elif cid in tie_of:
            out_reason[j] = _tie_sentence(tie_of[cid], cid, seed, selected=True)
        else:
            helping = [
                r for r in rows if r > 0 and problem.rows[r].kind == "min" and shadow[r] < -_TOL
            ]
            if s + _TOL < bar and helping:
                words = " and ".join(_phrase(problem.rows[r], policy) for r in helping)
                out_reason[j] = (
                    f"Selected to meet {words}: its score {_fmt(s, bar)} is below the general "
                    f"entry bar of {_fmt(bar, s)}{_names(problem.rows[r] for r in helping)}."
                )
            elif s + _TOL < bar:
                # Below the bar with no floor to credit: the optimum needs it for the targets
                # taken together (no single floor's price says so).
                out_reason[j] = (
                    f"Selected: its score {_fmt(s, bar)} is below the general entry bar of "
                    f"{_fmt(bar, s)}, but leaving it out would break the policy's targets "
                    "taken together."
                )
            else:
                out_reason[j] = f"Selected on its score {_fmt(s, bar)} (entry bar {_fmt(bar, s)})."

    achieved = np.rint(mat @ x.astype(np.float64)).astype(np.int64)
    lo_rows, hi_rows = problem.bounds()
    selected_cols = np.flatnonzero(x)
    selected_dense = problem.csc[:, selected_cols].toarray()

    def best_swap(j: int) -> tuple[float, np.ndarray] | None:
        """V_j through the best single exchange (j in, one selected case out), if any."""
        after = (achieved + problem.csc[:, j].toarray().ravel())[:, None] - selected_dense
        ok = np.all((after >= lo_rows[:, None] - 1e-9) & (after <= hi_rows[:, None] + 1e-9), 0)
        if not ok.any():
            return None
        cand = selected_cols[ok]
        out = cand[np.lexsort((cand, problem.scores[cand]))[0]]
        xj = x.copy()
        xj[out] = False
        xj[j] = True
        return z - float(problem.scores[out]), xj

    # The solves run on the candidates that can matter: a pattern's members beyond its cap
    # (plus one, for a program with one member left out) are never in an optimum, so every V
    # is the same on this smaller program (see ``reachable_columns``).
    from triage.allocate._chances import reachable_columns

    pattern = column_patterns(problem)
    reach = np.union1d(
        reachable_columns(problem, problem.scores[:, None], extra=1, pattern=pattern), selected_idx
    )
    where = np.full(n, -1, dtype=np.int64)
    where[reach] = np.arange(len(reach))
    x_sub = x[reach]

    def swap_sub(jj: int) -> tuple[float, np.ndarray] | None:
        found = best_swap(int(reach[jj]))
        return None if found is None else (found[0], found[1][reach])

    def leavers(xj: np.ndarray | None) -> np.ndarray | None:
        return None if xj is None else reach[np.flatnonzero(x_sub & ~xj)]

    unselected = np.flatnonzero(~x)
    total = len(unselected)
    # V_j and the selected cases that would leave (their column indices; None when j cannot
    # enter), one entry per pattern where the pattern's answer holds for its members, else per
    # case. Only the leavers are kept, never a full selection per candidate: memory stays linear.
    by_pattern: dict[int, tuple[float, np.ndarray | None, np.ndarray | None]] = {}
    own: dict[int, tuple[float, np.ndarray | None]] = {}
    order = unselected[np.argsort(pattern[unselected], kind="stable")]
    starts = np.flatnonzero(np.r_[True, pattern[order][1:] != pattern[order][:-1]])
    if not total:
        starts = starts[:0]
    ends = np.r_[starts[1:], len(order)][: len(starts)]
    groups = [order[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    # A pattern with no member in the smaller program (only when the selection is not the
    # pattern's best: a time limit) is solved on the full program, after the others.
    on_full = [g for g in groups if not (where[g] >= 0).any()]
    on_sub = [g for g in groups if (where[g] >= 0).any()]
    progress = [total - sum(len(g) for g in on_sub), 0]

    def solve_share(engine: Engine, share: list[np.ndarray], k: int) -> None:
        for members in share:
            pid = int(pattern[members[0]])
            # One solve per pattern: the best selection of the K - 1 others when one more case
            # of this pattern is in (every candidate may be among them). A member it leaves
            # out has exactly this answer: forcing it in leaves the same choice, and no better.
            inside = members[where[members] >= 0]
            v, others = _solve_pattern(engine, int(where[inside[0]]), swap_sub)
            by_pattern[pid] = (v, others, leavers(others))
            if others is not None:
                for j in inside[others[where[inside]]].tolist():
                    # The pattern's best choice uses this member itself: solve it on its own.
                    vj, xj, _ = _solve_forced(engine, int(where[j]), swap_sub)
                    own[int(j)] = (vj, leavers(xj))
            progress[k] += len(members)
            if on_progress and k == 0:
                on_progress(min(sum(progress), total), total, "score to enter")

    # Two engines, each with its own HiGHS model, solve alternate patterns: HiGHS releases the
    # GIL, so the second core works alongside. Which engine solves which pattern is fixed (by
    # position in pattern order), never by the scheduling, so every run gives the same reasons.
    # Each share writes only its own patterns' and members' entries.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="triage-reasons") as pool:
        second = pool.submit(
            lambda: solve_share(Engine(subproblem(problem, reach)), on_sub[1::2], 1)
        )
        solve_share(Engine(subproblem(problem, reach)), on_sub[0::2], 0)
        second.result()
    for members in on_full:
        pid = int(pattern[members[0]])
        v, others = _solve_pattern(eng, int(members[0]), best_swap)
        by_pattern[pid] = (v, others, None if others is None else np.flatnonzero(x & ~others))
        for j in members[others[members]].tolist() if others is not None else []:
            vj, xj, _ = _solve_forced(eng, int(j), best_swap)
            own[int(j)] = (vj, None if xj is None else np.flatnonzero(x & ~xj))
    if on_progress and total:
        on_progress(total, total, "score to enter")
    # Who leaves and which ceilings are full depend on the pattern and V alone: said once each.
    leaving_text: dict[tuple[int, float], str] = {}
    full_rows: dict[int, list[int]] = {}
    full_words: dict[int, tuple[str, str]] = {}
    for j in unselected.tolist():
        pid = int(pattern[j])
        if j in own:
            v, out_idx = own[j]
        else:
            v, _, out_idx = by_pattern[pid]
        s = problem.scores[j]
        cid = str(problem.case_ids[j])
        if not math.isfinite(v) or out_idx is None:
            out_reason[j] = (
                "Not selected: no score could bring it in; including it would break the "
                "policy's targets."
            )
            continue
        t = z - v
        to_enter[j] = t
        key = (pid, float(v))
        if j in own or key not in leaving_text:
            leaving = problem.case_ids[out_idx]
            if len(leaving) > 1:
                swap = _single_swap(problem, x, achieved, lo_rows, hi_rows, j, t)
                if swap is not None:
                    leaving = problem.case_ids[[swap]]
            text = ";".join(sorted(leaving.tolist()))
            if j in own:
                displaced[j] = text
            else:
                leaving_text[key] = text
        if j not in own:
            displaced[j] = leaving_text[key]
        if pid not in full_rows:
            rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
            full_rows[pid] = [
                r
                for r in rows
                if r > 0
                and problem.rows[r].kind == "max"
                and shadow[r] > _TOL
                and achieved[r] >= problem.rows[r].target
            ]
        full = full_rows[pid]
        at_bar = s + _TOL * max(1.0, abs(t)) >= t
        if cid in tie_of and at_bar:
            out_reason[j] = _tie_sentence(tie_of[cid], cid, seed, selected=False)
        elif full and s + _TOL >= bar:
            if pid not in full_words:
                # The same ceilings are worded for every member of the pattern: once each.
                verb = "is" if len(full) == 1 else "are"
                full_words[pid] = (
                    f"{' and '.join(_phrase(problem.rows[r], policy) for r in full)} {verb} full",
                    _names(problem.rows[r] for r in full),
                )
            words, names = full_words[pid]
            out_reason[j] = (
                f"Not selected: {words}; it would need a score of {_fmt(t, s)} to enter{names}."
            )
        elif at_bar:
            # Entering at its own score would only tie the optimum (an exchange of equal
            # totals); such ties go by the seeded lottery.
            out_reason[j] = (
                f"Not selected: at its score {_fmt(s)} it could only tie the selection's total, "
                f"and the lottery between equal totals (seed {seed}) went the other way."
            )
        else:
            out_reason[j] = (
                f"Not selected: its score {_fmt(s, t)} is below the {_fmt(t, s)} it needs to enter."
            )
    return _frame(problem, x, out_reason, to_enter, displaced)


def _single_swap(
    problem: Problem,
    x: np.ndarray,
    achieved: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    j: int,
    t: float,
) -> int | None:
    """The smallest case_id whose place j can take alone at score ``t``, if one exists.

    When many optimal selections exist (equal scores), the solver's selection with j forced in
    may differ from the current one in many places; a single exchange with a case scored
    exactly ``t`` is the plain answer to "who would j displace".
    """
    selected = np.flatnonzero(x)
    near = selected[np.abs(problem.scores[selected] - t) <= 1e-9 * max(1.0, abs(t))]
    if not len(near):
        return None
    col_j = problem.csc[:, j].toarray().ravel()
    base = achieved + col_j
    out_cols = problem.csc[:, near].toarray()
    after = base[:, None] - out_cols
    ok = np.all((after >= lo[:, None] - 1e-9) & (after <= hi[:, None] + 1e-9), axis=0)
    if not ok.any():
        return None
    return int(near[np.flatnonzero(ok)[0]])


def _frame(
    problem: Problem,
    x: np.ndarray,
    reason: list[str],
    to_enter: np.ndarray,
    displaced: list[str],
) -> pd.DataFrame:
    from triage.allocate._contracts import ReasonsFrame, check

    frame = pd.DataFrame(
        {
            "case_id": problem.case_ids.astype(object),
            "selected": x.astype(bool),
            "reason": reason,
            "score_to_enter": to_enter.astype(np.float64),
            "displaced_by": displaced,
        }
    )
    return check(frame, ReasonsFrame)
