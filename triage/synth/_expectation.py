"""The paper's statements on years, subgroups and named countries, as expected values over seeds.

``triage calibration`` checks one history's draw. This module states what the paper says about
time (Figure 7), subgroups (detention, conviction, letters sent alone or jointly, low-key
violations) and named countries (Figure 8 and the next paragraph) as properties of the
simulation's **expected values**, and estimates them by Monte Carlo over seeds:

- improvement shares are estimated from the truth (the mean of ``p_improve`` over the impact
  sample's cases of the subgroup), the cleanest expectation: it carries no outcome-draw noise;
- shares of other outcomes (worse, same, mixed) from the outcomes drawn, pooled over seeds.

Each estimate is a ratio pooled over seeds (the subgroup's total over its number of cases) with
the Monte Carlo standard error of a ratio estimator across seeds. A statement holds when it holds
with a margin of ``Z`` standard errors (and, for a figure the paper rounds, within half its last
digit). Tolerances therefore come from the Monte Carlo spread, never set by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from triage.schema import VIOLATIONS, History, codes_to_frame

__all__ = ["STATEMENTS", "Statement", "expectation_table", "sample_cases"]

#: Margin in Monte Carlo standard errors: a statement that truly holds fails by chance with
#: probability about 0.1 % (one-sided normal).
Z: Final = 3.0
_POSITIVE: Final = ("SAU", "KEN", "UGA", "NER", "PAK", "MNG")
_NEGATIVE: Final = ("MEX", "HND", "ECU", "PER")
_SAMPLE_YEARS: Final = tuple(range(2004, 2016))


def sample_cases(frames: dict[str, pd.DataFrame] | History, seed: int) -> pd.DataFrame:
    """The impact sample of one simulated history, one row per case, with the columns used here.

    Columns: ``seed``, ``year``, ``country``, ``detention``, ``conviction``, ``alone``,
    ``admin`` (administrative harassment), ``professional``, ``p`` (the truth), and the
    outcome indicators ``better``, ``worse``, ``same``, ``mixed``, ``same_or_worse``.
    """
    h = frames if isinstance(frames, History) else History.from_frames(frames)
    if h.truth is None:
        raise ValueError("`frames` must include the truth table. Got a history without it instead.")
    o = h.outcomes.loc[h.outcomes["assessment"].isin(("survey", "online"))]
    s = (
        o.merge(h.cases, on="case_id", how="left")
        .merge(h.truth, on="case_id", how="left")
        .merge(h.communications[["communication_id", "n_mandates"]], on="communication_id")
    )
    v = codes_to_frame(s["violations"], VIOLATIONS)
    out = pd.DataFrame(
        {
            "seed": seed,
            "year": s["sent_date"].dt.year.to_numpy(),
            "country": s["country"].to_numpy(),
            "detention": v["detention"].to_numpy(bool),
            "conviction": v["conviction"].to_numpy(bool),
            "alone": (s["n_mandates"] == 1).to_numpy(bool),
            "admin": v["administrative_harassment"].to_numpy(bool),
            "professional": v["professional_restriction"].to_numpy(bool),
            "p": s["p_improve"].astype(float).to_numpy(),
            "better": s["outcome"].isin(("much_better", "somewhat_better")).to_numpy(),
            "worse": s["outcome"].isin(("somewhat_worse", "much_worse")).to_numpy(),
            "same": (s["outcome"] == "same").to_numpy(),
            "mixed": (s["outcome"] == "mixed").to_numpy(),
            "same_or_worse": s["outcome"].isin(("same", "somewhat_worse", "much_worse")).to_numpy(),
        }
    )
    return out


@dataclass(frozen=True)
class _Estimate:
    value: float
    se: float


def _ratio(cases: pd.DataFrame, mask: pd.Series, col: str, seeds: np.ndarray) -> _Estimate:
    """Pooled ratio ``sum(col) / count`` over ``mask`` and its standard error across seeds."""
    sel = cases.loc[mask]
    tot = sel.groupby("seed")[col].sum().reindex(seeds, fill_value=0).to_numpy(float)
    n = sel.groupby("seed")[col].size().reindex(seeds, fill_value=0).to_numpy(float)
    k = len(seeds)
    if n.sum() == 0 or k < 2:
        return _Estimate(float("nan"), float("nan"))
    r = tot.sum() / n.sum()
    se = float(np.sqrt(((tot - r * n) ** 2).sum() / (k * (k - 1))) / n.mean())
    return _Estimate(float(r), se)


def _diff(a: _Estimate, b: _Estimate) -> _Estimate:
    # Conservative: the two estimates' errors are treated as independent.
    return _Estimate(a.value - b.value, float(np.hypot(a.se, b.se)))


@dataclass(frozen=True)
class Statement:
    """One statement of the paper: how to estimate it and when it holds.

    ``rule`` is ``near`` (``|expected - paper| <= rounding + Z se``), ``above``
    (``expected - Z se > paper``) or ``below`` (``expected + Z se < paper``).
    """

    key: str
    statement: str
    page: str
    paper: float
    rule: str
    estimate: Callable[[pd.DataFrame, np.ndarray], _Estimate]
    rounding: float = 0.0


def _share(mask: Callable[[pd.DataFrame], pd.Series], col: str = "p") -> Callable[..., _Estimate]:
    return lambda c, seeds: _ratio(c, mask(c), col, seeds)


def _gap(
    first: Callable[..., _Estimate], second: Callable[..., _Estimate]
) -> Callable[..., _Estimate]:
    return lambda c, seeds: _diff(first(c, seeds), second(c, seeds))


def _low_point(c: pd.DataFrame, seeds: np.ndarray) -> _Estimate:
    """2013's expected share minus the lowest other sample year's."""
    shares = {y: _ratio(c, c["year"] == y, "p", seeds) for y in _SAMPLE_YEARS}
    lowest = min((y for y in shares if y != 2013), key=lambda y: shares[y].value)
    return _diff(shares[2013], shares[lowest])


def _same_modal_years(c: pd.DataFrame, seeds: np.ndarray) -> _Estimate:
    """Sample years whose expected 'same' share exceeds better, mixed and worse by Z se."""
    n_years = 0
    for y in _SAMPLE_YEARS:
        rows = c["year"] == y
        same = _ratio(c, rows, "same", seeds)
        if all(
            _diff(same, _ratio(c, rows, k, seeds)).value
            > Z * _diff(same, _ratio(c, rows, k, seeds)).se
            for k in ("better", "mixed", "worse")
        ):
            n_years += 1
    return _Estimate(float(n_years), 0.0)


def _in_year(year: int) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda c: c["year"] == year


def _named(iso: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda c: c["country"] == iso


_THIRD = 1 / 3
_ALL: Callable[[pd.DataFrame], pd.Series] = lambda c: c["year"] > 0  # noqa: E731


def _statements() -> tuple[Statement, ...]:
    st: list[Statement] = [
        Statement(
            "improved",
            "improved within a year, whole sample",
            "p. 20",
            0.24,
            "near",
            _share(_ALL),
            0.005,
        ),
    ]
    for y in (2005, 2009, 2010, 2012, 2015):
        st.append(
            Statement(
                f"improved_{y}",
                f"about one-third improved in {y} (Figure 7)",
                "p. 20",
                _THIRD,
                "near",
                _share(_in_year(y)),
                0.02,
            )
        )
    st += [
        Statement(
            "improved_2013_low_point",
            "2013 is the low point: its improved share minus the lowest other year's",
            "p. 20",
            0.0,
            "below",
            _low_point,
        ),
        Statement(
            "improved_2014_vs_2013",
            "after 2013 improvement increased again: 2014 minus 2013",
            "p. 20",
            0.0,
            "above",
            _gap(_share(lambda c: c["year"] == 2014), _share(lambda c: c["year"] == 2013)),
        ),
        Statement(
            "improved_2015_vs_2014",
            "... and increased considerably: 2015 minus 2014",
            "p. 20",
            0.0,
            "above",
            _gap(_share(lambda c: c["year"] == 2015), _share(lambda c: c["year"] == 2014)),
        ),
        Statement(
            "worse_2005",
            "more than 40 % worse in 2005",
            "p. 20",
            0.40,
            "above",
            _share(lambda c: c["year"] == 2005, "worse"),
        ),
        Statement(
            "worse_2013",
            "more than 40 % worse in 2013",
            "p. 20",
            0.40,
            "above",
            _share(lambda c: c["year"] == 2013, "worse"),
        ),
        Statement(
            "same_modal_years",
            "'same' is the largest outcome in most sample years (years out of 12)",
            "p. 20",
            6.0,
            "above",
            _same_modal_years,
        ),
        Statement(
            "improved_detention",
            "detention cases improved 30 %",
            "p. 22",
            0.30,
            "near",
            _share(lambda c: c["detention"]),
            0.005,
        ),
        Statement(
            "improved_no_detention",
            "non-detention cases improved 16 %",
            "p. 22",
            0.16,
            "near",
            _share(lambda c: ~c["detention"]),
            0.005,
        ),
        Statement(
            "mixed_detention",
            "detention cases mixed 14 %",
            "p. 22",
            0.14,
            "near",
            _share(lambda c: c["detention"], "mixed"),
            0.005,
        ),
        Statement(
            "mixed_detention_gap",
            "detention cases show the highest mixed share: minus non-detention",
            "p. 22",
            0.0,
            "above",
            _gap(
                _share(lambda c: c["detention"], "mixed"),
                _share(lambda c: ~c["detention"], "mixed"),
            ),
        ),
        Statement(
            "improved_convicted",
            "convicted improved 36 %",
            "p. 23",
            0.36,
            "near",
            _share(lambda c: c["conviction"]),
            0.005,
        ),
        Statement(
            "improved_not_convicted",
            "not convicted improved 23 %",
            "p. 23",
            0.23,
            "near",
            _share(lambda c: ~c["conviction"]),
            0.005,
        ),
        Statement(
            "improved_conviction_gap",
            "convicted improve more often than the others (36 % against 23 %)",
            "p. 23",
            0.0,
            "above",
            _gap(_share(lambda c: c["conviction"]), _share(lambda c: ~c["conviction"])),
        ),
        Statement(
            "improved_alone",
            "letters by the HRD mandate alone: 30 % improved",
            "p. 12",
            0.30,
            "near",
            _share(lambda c: c["alone"]),
            0.005,
        ),
        Statement(
            "improved_joint",
            "joint letters: less than 24 % improved",
            "p. 12",
            0.24,
            "below",
            _share(lambda c: ~c["alone"]),
        ),
        Statement(
            "worse_admin_harassment",
            "administrative harassment: more than half worse",
            "p. 23",
            0.5,
            "above",
            _share(lambda c: c["admin"], "worse"),
        ),
        Statement(
            "improved_low_key_vs_severe",
            "low-key violations improve less than severe ones: administrative harassment minus detention",
            "p. 23",
            0.0,
            "below",
            _gap(_share(lambda c: c["admin"]), _share(lambda c: c["detention"])),
        ),
        Statement(
            "improved_professional",
            "professional restrictions, the exception: six of eight improved",
            "p. 23 fn 21",
            0.75,
            "near",
            _share(lambda c: c["professional"]),
        ),
    ]
    for iso in (*_POSITIVE, "AZE"):
        page = "p. 22" if iso == "AZE" else "p. 21-22"
        st.append(
            Statement(
                f"improved_{iso}",
                f"{iso}: more improvement than its poor engagement suggests (above the sample's 24 %)",
                page,
                0.24,
                "above",
                _share(_named(iso)),
            )
        )
    for iso in _NEGATIVE:
        st.append(
            Statement(
                f"improved_minus_same_or_worse_{iso}",
                f"{iso}: stayed the same or worsened more often than improved",
                "p. 21",
                0.0,
                "below",
                _gap(_share(_named(iso), "better"), _share(_named(iso), "same_or_worse")),
            )
        )
    for iso in ("GRC", "IND", "PER", "ARG", "MEX"):
        st.append(
            Statement(
                f"improved_{iso}",
                f"{iso}: the majority of sample cases did not improve",
                "p. 22",
                0.5,
                "below",
                _share(_named(iso)),
            )
        )
    return tuple(st)


STATEMENTS: Final = _statements()


def expectation_table(cases: Iterable[pd.DataFrame] | pd.DataFrame) -> pd.DataFrame:
    """Every statement's expected value over the seeds of ``cases`` and whether it holds.

    Parameters
    ----------
    cases : DataFrame or iterable of DataFrames
        ``sample_cases`` of several seeds (concatenated, or one frame per seed).

    Returns
    -------
    pandas.DataFrame
        ``key``, ``statement``, ``page``, ``paper``, ``rule``, ``expected``, ``se``,
        ``margin`` (the allowed distance, from ``Z`` standard errors and the paper's rounding)
        and ``holds``.
    """
    c = cases if isinstance(cases, pd.DataFrame) else pd.concat(list(cases), ignore_index=True)
    seeds = np.sort(c["seed"].unique())
    rows = []
    for s in STATEMENTS:
        est = s.estimate(c, seeds)
        margin = s.rounding + Z * est.se
        if s.rule == "near":
            holds = abs(est.value - s.paper) <= margin
        elif s.rule == "above":
            holds = est.value - Z * est.se > s.paper
        else:
            holds = est.value + Z * est.se < s.paper
        rows.append(
            {
                "key": s.key,
                "statement": s.statement,
                "page": s.page,
                "paper": s.paper,
                "rule": s.rule,
                "expected": est.value,
                "se": est.se,
                "margin": margin,
                "holds": bool(np.isfinite(est.value) and holds),
            }
        )
    return pd.DataFrame(rows)
