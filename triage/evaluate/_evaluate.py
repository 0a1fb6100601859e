"""The counterfactual evaluation: seeds and years in parallel through joblib, and its result."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from triage._validation import check_params, in_range, integer, one_of
from triage.allocate import Policy
from triage.errors import TriageError
from triage.evaluate._data import Prepared, prepare
from triage.evaluate._year import evaluate_year, n_known_outcomes

__all__ = ["Backend", "Evaluation", "evaluate", "simulated_histories"]

ProgressCallback = Callable[[int, int, str], None]
Backend = Literal["loky", "threading", "multiprocessing", "dask", "ray"]
BACKENDS: tuple[str, ...] = ("loky", "threading", "multiprocessing", "dask", "ray")
ARMS = ("mandate", "triage", "random", "oracle")
_FIGURES = (*ARMS, "triage_equal", "gain_pct", "gain_equal_pct", "oracle_share")
#: Fewest outcomes a refit may learn from (``triage.scoring.fit_model`` needs 40).
_MIN_FIT = 40
_CONSTRAINTS = {
    "level": in_range(0, 1, closed="neither"),
    "backend": one_of(BACKENDS),
    "n_jobs": integer("a non-zero integer (-1: all cores)", nonzero=True, numpy_ok=False),
    "seeds": integer("non-negative integers", minimum=0),
    "n_random": integer("a positive integer", minimum=1, numpy_ok=False),
    "min_outcomes": integer(f"an integer of at least {_MIN_FIT}", minimum=_MIN_FIT, numpy_ok=False),
}


@dataclass(frozen=True)
class Evaluation:
    """Expected improvements (sums of the counterfactual truth) of four selections per year.

    Attributes
    ----------
    years : DataFrame
        One row per seed and year: seed, year, capacity (cases the mandate took up that year,
        which every arm selects), candidates (eligible submissions), n_train (outcomes observed
        before the year, the refit's labels), mandate, triage, random, oracle, triage_equal
        (triage held to the mandate's own numbers per region, gender and violation), relaxed
        (constraints of the year's policy relaxed to make it feasible, for every arm alike).
    by_seed : DataFrame
        One row per seed: the sums over its years, first_year, last_year, gain_pct,
        gain_equal_pct and oracle_share.
    policy : str
        The policy's name.
    n_random : int
        Random draws averaged per year.
    """

    years: pd.DataFrame
    by_seed: pd.DataFrame
    policy: str
    n_random: int

    @property
    def seeds(self) -> list[int]:
        """The seeds evaluated."""
        return [int(s) for s in self.by_seed["seed"]]

    @property
    def total(self) -> dict[str, float]:
        """Each arm's expected improvements over the years (mean over seeds)."""
        return {arm: float(self.by_seed[arm].mean()) for arm in ARMS}

    @property
    def gain_pct(self) -> float:
        """Triage's gain over the mandate's own choices, % (mean over seeds)."""
        return float(self.by_seed["gain_pct"].mean())

    @property
    def gain_equal_pct(self) -> float:
        """Triage's gain over the mandate at the mandate's own balance, % (mean over seeds)."""
        return float(self.by_seed["gain_equal_pct"].mean())

    @property
    def oracle_share(self) -> float:
        """Share of the oracle's gain over random that triage captures (mean over seeds)."""
        return float(self.by_seed["oracle_share"].mean())

    def summary(self, level: float = 0.9) -> pd.DataFrame:
        """Mean over seeds with a ``level`` t-interval for the mean, and the range.

        Rows: mandate, triage, random, oracle, triage_equal, gain_pct, gain_equal_pct,
        oracle_share; columns figure, mean,
        lower, upper, min, max, n_seeds. With one seed the interval is NaN.
        """
        from scipy import stats

        check_params(_CONSTRAINTS, level=level)
        rows = []
        n = len(self.by_seed)
        for fig in _FIGURES:
            v = self.by_seed[fig].to_numpy(dtype=float)
            mean = float(v.mean())
            if n > 1:
                half = float(stats.t.ppf(0.5 + level / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
                lo, hi = mean - half, mean + half
            else:
                lo = hi = float("nan")
            rows.append((fig, mean, lo, hi, float(v.min()), float(v.max()), n))
        return pd.DataFrame(
            rows, columns=["figure", "mean", "lower", "upper", "min", "max", "n_seeds"]
        )

    def to_dict(self, level: float = 0.9) -> dict[str, Any]:
        """The ``triage evaluate --json`` object.

        ``years`` and ``total`` hold year, capacity and the four arms (means over seeds when
        there are several, over the seeds that evaluated the year); ``gain_pct``,
        ``gain_equal_balance_pct``, ``oracle_share``, ``interval`` (t-interval of the mean over
        seeds), ``seeds`` (per-seed totals) and ``relaxed`` add the rest.
        """
        per_year = self.years.groupby("year", sort=True)[["capacity", *ARMS]].mean().reset_index()
        years = [
            {
                "year": int(r["year"]),
                "capacity": _num(r["capacity"]),
                **{arm: round(float(r[arm]), 6) for arm in ARMS},
            }
            for r in per_year.to_dict("records")
        ]
        summ = self.summary(level).set_index("figure")
        return {
            "years": years,
            "total": {arm: round(v, 6) for arm, v in self.total.items()},
            "gain_pct": round(self.gain_pct, 4),
            "gain_equal_balance_pct": round(self.gain_equal_pct, 4),
            "oracle_share": round(self.oracle_share, 6),
            "policy": self.policy,
            "seeds": [
                {
                    "seed": int(r["seed"]),
                    "years": [int(r["first_year"]), int(r["last_year"])],
                    **{arm: round(float(r[arm]), 6) for arm in (*ARMS, "triage_equal")},
                    "gain_pct": round(float(r["gain_pct"]), 4),
                    "gain_equal_balance_pct": round(float(r["gain_equal_pct"]), 4),
                    "oracle_share": round(float(r["oracle_share"]), 6),
                }
                for r in self.by_seed.to_dict("records")
            ],
            "interval": {
                "level": level,
                "kind": "t-interval of the mean over seeds",
                **{
                    fig: [_finite(summ.loc[fig, "lower"]), _finite(summ.loc[fig, "upper"])]
                    for fig in ("gain_pct", "gain_equal_pct", "oracle_share")
                },
            },
            "relaxed": [
                {"seed": int(r["seed"]), "year": int(r["year"]), "constraints": r["relaxed"]}
                for r in self.years.to_dict("records")
                if r["relaxed"]
            ],
        }


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(float(value), 3)


def _finite(value: Any) -> float | None:
    v = float(value)
    return None if not math.isfinite(v) else round(v, 6)


def _by_seed(years: pd.DataFrame) -> pd.DataFrame:
    g = years.groupby("seed", sort=True)
    arms = [*ARMS, *(["triage_equal"] if "triage_equal" in years.columns else [])]
    out = g[arms].sum().reset_index()
    out["first_year"] = g["year"].min().to_numpy()
    out["last_year"] = g["year"].max().to_numpy()
    out["gain_pct"] = 100.0 * (out["triage"] - out["mandate"]) / out["mandate"]
    if "triage_equal" in out.columns:
        out["gain_equal_pct"] = 100.0 * (out["triage_equal"] - out["mandate"]) / out["mandate"]
    spread = out["oracle"] - out["random"]
    out["oracle_share"] = np.where(
        spread > 0, (out["triage"] - out["random"]) / spread.where(spread > 0, 1.0), np.nan
    )
    return out


@contextmanager
def _backend(backend: str | None, n_jobs: int) -> Iterator[None]:
    """joblib's ``parallel_config`` for the named backend (Dask and Ray registered if asked)."""
    from joblib import parallel_config

    if backend is not None:
        check_params(_CONSTRAINTS, backend=backend)
    if backend == "ray":
        try:
            from ray.util.joblib import register_ray
        except ImportError as exc:
            raise TriageError(
                "the ray backend needs Ray (`pip install 'ray[default]'`); joblib runs the same "
                "tasks on it."
            ) from exc
        register_ray()
    if backend == "dask":
        try:
            from distributed import Client, get_client
        except ImportError as exc:
            raise TriageError(
                "the dask backend needs Dask distributed (`pip install distributed`); joblib runs "
                "the same tasks on it."
            ) from exc
        try:
            get_client()
        except ValueError:
            import os

            # The cluster named by DASK_SCHEDULER_ADDRESS, else a local one.
            Client(os.environ.get("DASK_SCHEDULER_ADDRESS"))
    with parallel_config(backend=backend or "loky", n_jobs=n_jobs):
        yield


def _run(
    tasks: Sequence[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]],
    n_jobs: int,
    backend: str | None,
    on_progress: ProgressCallback | None,
    what: Callable[[Any], str],
) -> list[Any]:
    """Run ``fn(*args, **kwargs)`` for each task over ``n_jobs`` workers; return the results in
    the order they finish, reporting ``what(result)`` to ``on_progress`` as each does."""
    from joblib import Parallel, delayed

    check_params(_CONSTRAINTS, n_jobs=n_jobs)
    out = []
    with _backend(backend, n_jobs):
        results = Parallel(return_as="generator_unordered")(
            delayed(fn)(*args, **kwargs) for fn, args, kwargs in tasks
        )
        for i, res in enumerate(results, start=1):
            out.append(res)
            if on_progress is not None:
                on_progress(i, len(tasks), what(res))
    return out


def _simulate_one(seed: int, scale: float, outcomes: Literal["sample", "all"]) -> Prepared:
    from triage.synth import COUNTERFACTUAL_FILES, simulate

    tables = simulate(seed=seed, scale=scale, outcomes=outcomes, counterfactual=True)
    cf = {name: tables.pop(name) for name in COUNTERFACTUAL_FILES}
    return prepare(tables, cf, seed=seed)


def simulated_histories(
    seeds: Sequence[int],
    *,
    scale: float = 1.0,
    outcomes: Literal["sample", "all"] = "sample",
    n_jobs: int = 1,
    backend: Backend | None = None,
    on_progress: ProgressCallback | None = None,
) -> list[Prepared]:
    """Simulate each seed's history in memory (in parallel) and prepare it for ``evaluate``.

    Parameters
    ----------
    seeds : sequence of int
        Distinct non-negative seeds.
    scale, outcomes
        As in ``triage.synth.simulate``.
    n_jobs : int, default 1
        joblib workers (-1: all cores).
    backend : {"loky", "threading", "multiprocessing", "dask", "ray"}, optional
        joblib backend (default loky).
    on_progress : callable, optional
        ``on_progress(done, total, what)`` as seeds finish.
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("`seeds` must hold at least one seed. Got none instead.")
    for s in seeds:
        check_params(_CONSTRAINTS, seeds=s)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"`seeds` must be distinct. Got {seeds} instead.")
    tasks: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = [
        (_simulate_one, (int(s), float(scale), outcomes), {}) for s in seeds
    ]
    done = _run(tasks, n_jobs, backend, on_progress, lambda p: f"simulated seed {p.seed}")
    by_seed = {p.seed: p for p in done}
    return [by_seed[int(s)] for s in seeds]


def _years(prepared: Prepared, from_year: int | None, min_outcomes: int) -> list[int]:
    pool_years = sorted(int(y) for y in prepared.pool.loc[prepared.pool["taken"], "year"].unique())
    if not pool_years:
        raise TriageError(f"seed {prepared.seed}: no submission was ever taken up.")
    if from_year is None:
        first = next((y for y in pool_years if n_known_outcomes(prepared, y) >= min_outcomes), None)
        if first is None:
            raise TriageError(
                f"seed {prepared.seed}: no year has {min_outcomes} outcomes observed before it; "
                "lower --min-outcomes or generate with --outcomes all."
            )
    else:
        first = int(from_year)
        n = n_known_outcomes(prepared, first)
        if n < _MIN_FIT:
            raise TriageError(
                f"seed {prepared.seed}: only {n} outcomes were observed before {first}; a refit "
                f"needs at least {_MIN_FIT}. Choose a later --from-year."
            )
    years = [y for y in pool_years if y >= first]
    if not years:
        raise TriageError(
            f"seed {prepared.seed}: no submission received in {first} or later was taken up "
            f"(last year: {pool_years[-1]})."
        )
    return years


def evaluate(
    histories: Sequence[Prepared],
    policy: Policy,
    *,
    from_year: int | None = None,
    min_outcomes: int = 100,
    n_random: int = 5,
    n_jobs: int = 1,
    backend: Backend | None = None,
    on_progress: ProgressCallback | None = None,
) -> Evaluation:
    """Replay each year of each history: what triage would have chosen, valued by the truth.

    For each received year ``t`` from the first with ``min_outcomes`` outcomes observed before it
    (or ``from_year``): the model is refitted (``triage.scoring.fit_model``) on the outcomes
    observed before 1 January of ``t`` only, scores the year's eligible submissions
    (point-in-time features, the planned letter), and four selections of the same size, the
    number the mandate took up that year, are valued by summing the counterfactual truth: the
    mandate's own choices; triage's under ``policy``; random scores under ``policy`` (mean of
    ``n_random`` draws); the truth itself under ``policy`` (the oracle). When a year's pool
    cannot meet the policy, the allocator's smallest relaxation is applied to every arm alike.

    Parameters
    ----------
    histories : sequence of Prepared
        From ``simulated_histories`` or ``triage.evaluate.prepare``; distinct seeds.
    policy : Policy
        Balance policy; its capacity is replaced by each year's take-up, its exploration and
        must-include lists are dropped.
    from_year : int, optional
        First received year to evaluate (needs at least 40 outcomes observed before it).
    min_outcomes : int, default 100
        Without ``from_year``: outcomes that must be observed before the first evaluated year.
    n_random : int, default 5
        Random selections averaged per year.
    n_jobs : int, default 1
        joblib workers over (seed, year) tasks (-1: all cores).
    backend : {"loky", "threading", "multiprocessing", "dask", "ray"}, optional
        joblib backend (default loky); Dask and Ray run the same tasks on a cluster.
    on_progress : callable, optional
        ``on_progress(done, total, what)`` as tasks finish.

    Returns
    -------
    Evaluation

    Raises
    ------
    TriageError
        If a history has too few outcomes, or a year's pool cannot meet the policy even relaxed.
    """
    histories = list(histories)
    if not histories:
        raise ValueError("`histories` must hold at least one history. Got none instead.")
    seeds = [p.seed for p in histories]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"`histories` must have distinct seeds. Got {seeds} instead.")
    check_params(_CONSTRAINTS, n_random=n_random, min_outcomes=min_outcomes)
    tasks: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = [
        (evaluate_year, (p, y, policy), {"n_random": n_random})
        for p in histories
        for y in _years(p, from_year, min_outcomes)
    ]
    rows = _run(tasks, n_jobs, backend, on_progress, lambda r: f"seed {r['seed']} year {r['year']}")
    years = pd.DataFrame(rows).sort_values(["seed", "year"], kind="stable").reset_index(drop=True)
    return Evaluation(years=years, by_seed=_by_seed(years), policy=policy.name, n_random=n_random)
