"""Training with a time split, baselines, calibration choice and bootstrap intervals.

Protocol (all on the labelled cases, those with an outcome):

1. **Split by time.** The most recent calendar years holding at least 20 % of the labelled cases
   are the *test* years; the years before them holding the next 20 % are *validation*; the rest
   is *training*.
2. **Model selection.** Each configuration of a small grid (stumps to depth 3, strong L2,
   monotone constraints, with or without an additive start) is scored by validation log loss
   after every boosting round, averaged over two time-ordered origins (training → validation
   years; earlier training → the last training years); the configuration and round count with
   the lowest loss win. The additive start is an L2 logistic regression on
   ``triage.features.START_FEATURES`` (the features the paper ties to outcomes), its ``C``
   chosen on the same origins; the trees see every feature.
3. **Calibration.** Sigmoid, isotonic and identity (no change) are compared by 5-fold
   cross-validated Brier score on the validation predictions of the training-years model.
4. **Test metrics.** The shipping procedure (step 6) is run on the training + validation years
   and scored on the test years next to three baselines on the same cases: the base rate
   (training + validation), an L2 logistic regression (its ``C`` chosen on validation like the
   booster's configuration, refitted on training + validation) and, for simulated data, the
   generator's truth ``p_improve`` (the ceiling; never a feature).
5. **Intervals.** The range of the case's chance of improvement at the nominal level, read as
   ``sigmoid(b + s·Z)`` with ``b`` such that its mean is the score (``interval``); ``s²`` adds
   the bootstrap spread and the variance of the effects the score misses that cases share: the
   year's climate (one variance; a new year's climate is unknown) and the country's own effect
   as far as its improvement rate (a feature) did not yet carry it, ``σ² · k / (k + n)`` with
   ``n`` of the country's outcomes known at the case's date and ``k = SHRINK["improve"]``. The
   pipeline is bootstrapped ``n_bootstrap`` times (of training + validation for the test metrics,
   of all labelled cases for the shipped model): each member is a booster on a resample, its
   additive start refitted with a light penalty, with its own calibrator fitted on the
   out-of-bag rows. The shared effects are estimated from pairs of residuals in the same year
   (and different countries) or the same country (and different years), the residuals of the
   pipeline cross-fitted by year or by country respectively, scaled to the upper 80 %
   confidence bound of their summed variance (jackknife over countries). A case's own
   idiosyncratic chance cannot be estimated from one outcome per case, nor can how the score
   misweights a kind of case beyond the bootstrap spread, so the interval under-covers its
   nominal level. Coverage on
   test = share of test cases whose truth ``p_improve`` lies in ``[lower, upper]``; for a
   simulated history with a queue, the same on the queue scored by the shipped model.
6. **Shipped model.** Refitted on all labelled cases with the chosen configuration; its
   calibrator is fitted on cross-fitted predictions (5 time-ordered folds); its bootstrap members
   resample all labelled cases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from triage._validation import at_least, check_params, in_range, integer
from triage.errors import TriageError
from triage.features import (
    CATEGORICAL_FEATURES,
    FEATURE_COLUMNS,
    MONOTONE,
    build_features,
)
from triage.schema import IMPROVED_OUTCOMES, History
from triage.scoring._metrics import reliability_table, score_metrics
from triage.scoring._model import (
    TriageModel,
    _write_json,
    interval_bounds,
    interval_sd,
    known_country_outcomes,
)
from triage.scoring._selection import (
    _MIN_TRAIN,
    _choose_c,
    _choose_calibrator,
    _fit,
    _fit_calibrated,
    _logistic,
    _params,
    _raw_p,
    _scaled_rounds,
    _select,
    time_split,
)
from triage.scoring._train_report import (
    _comparison,
    _coverage_definition,
    _data_hash,
    _queue_coverage,
    _ranking,
    _round,
    _seeds_table,
)
from triage.scoring._uncertainty import (
    _bootstrap,
    _context_of,
    _context_sd,
    _country_held_out_scores,
    _draws,
)

_CONSTRAINTS = {
    "n_bootstrap": at_least(2),
    "level": in_range(0.5, 1, closed="left"),
    "seed": integer("a non-negative integer", minimum=0),
}

__all__ = ["TrainResult", "fit_model", "labelled_cases", "time_split", "train"]

ProgressCallback = Callable[[int, int, str], None]


@dataclass
class TrainResult:
    """What ``train`` produced.

    Attributes
    ----------
    metrics : DataFrame
        Test-year metrics per model: model, n, auc, brier, log_loss, ece.
    reliability : DataFrame
        Reliability bins of the calibrated model on the test years.
    coverage : dict
        Interval coverage of the truth on the test years (``nominal``, ``covered``, ``mean_width``).
    model : TriageModel
        The shipped model (refitted on all labelled cases).
    out_dir : Path
        Where the artifacts were written.
    summary : dict
        Everything written to ``metrics.json``.
    held_out : DataFrame
        The test-year cases as the evaluation model saw them: case_id, year, improved (0/1),
        score, lower, upper, sd (the interval's total log-odds sd) and, for simulated data,
        truth (the generator's p_improve).
    queue : DataFrame or None
        For a simulated history with a queue, the queue scored by the shipped model: case_id,
        score, lower, upper, sd, n_known (outcomes of its country known) and truth; else None.
    """

    metrics: pd.DataFrame
    reliability: pd.DataFrame
    coverage: dict[str, float]
    model: TriageModel
    out_dir: Path
    summary: dict[str, Any]
    held_out: pd.DataFrame
    queue: pd.DataFrame | None = None


def labelled_cases(history: History) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the cases with a recorded outcome (sorted by date, then case_id) and 0/1 improved."""
    outcomes = history.outcomes.dropna(subset=["outcome"]).drop_duplicates("case_id")
    cases = history.cases.merge(outcomes[["case_id", "outcome"]], on="case_id", how="inner")
    cases = cases.sort_values(["sent_date", "case_id"], kind="stable").reset_index(drop=True)
    y = cases["outcome"].isin(IMPROVED_OUTCOMES).to_numpy(dtype=int)
    return cases.drop(columns=["outcome"]), y


def train(
    history: History,
    *,
    out_dir: str | Path,
    seed: int = 0,
    n_bootstrap: int = 20,
    level: float = 0.9,
    compare_with: str | Path | None = None,
    on_progress: ProgressCallback | None = None,
) -> TrainResult:
    """Train, evaluate on held-out years and write the model artifacts to ``out_dir``.

    Parameters
    ----------
    history : History
        Simulated or real history; the labelled cases are those in ``outcomes``.
    out_dir : str or Path
        Folder for the artifacts (created; files are overwritten).
    seed : int, default 0
        Seed of every random step (bagging, bootstrap, calibration folds).
    n_bootstrap : int, default 20
        Bootstrap boosters for the intervals.
    level : float, default 0.9
        Nominal level of the interval.
    compare_with : str or Path, optional
        Another trained model folder (e.g. trained on ``--outcomes all`` data) whose test metrics
        are copied into ``metrics.json`` and the model card, to show learning from more data.
    on_progress : callable, optional
        ``on_progress(done, total, what)``.

    Returns
    -------
    TrainResult

    Raises
    ------
    TriageError
        If there are too few labelled cases or a split lacks one of the classes.
    """
    check_params(_CONSTRAINTS, n_bootstrap=n_bootstrap, level=level)
    comparison = _comparison(Path(compare_with)) if compare_with is not None else None
    total = 6
    step = 0

    def tick(what: str) -> None:
        nonlocal step
        step += 1
        if on_progress is not None:
            on_progress(step, total, what)

    cases, y = labelled_cases(history)
    if len(cases) < 3 * _MIN_TRAIN // 2:
        raise TriageError(
            f"only {len(cases)} cases have a recorded outcome; training needs at least "
            f"{3 * _MIN_TRAIN // 2}. Generate more with `triage generate --outcomes all`."
        )
    X = build_features(cases, history)
    tick("features built")
    tr, va, te = time_split(cases["sent_date"])
    for name, mask in (("training", tr), ("validation", va), ("test", te)):
        if mask.sum() == 0 or len(np.unique(y[mask])) < 2:
            raise TriageError(
                f"the {name} years have no case of one class (improved / not improved); "
                "the time split needs both in every part."
            )
    Xtr, ytr, Xva, yva, Xte, yte = X[tr], y[tr], X[va], y[va], X[te], y[te]

    # 2. model selection: log loss per boosting round, averaged over two time-ordered origins
    lr_c = _choose_c(Xtr, ytr, Xva, yva, seed)
    config, rounds = _select(X, y, cases["sent_date"], tr, va, seed)
    params = _params(config, seed)
    tick("model selected")

    # 3. calibration chosen on validation
    p_va = _raw_p(_fit(Xtr, ytr, params, rounds), Xva)
    kind, cal_scores = _choose_calibrator(p_va, yva, seed)
    tick(f"calibrator: {kind}")

    # 4. test metrics: the shipping procedure run on training + validation years only
    trva = tr | va
    n_tr = int(tr.sum())
    eval_rounds = _scaled_rounds(rounds, int(trva.sum()), n_tr)
    eval_unit, eval_cal = _fit_calibrated(X[trva], y[trva], params, eval_rounds, kind)
    p_model = eval_cal(_raw_p(eval_unit, Xte))
    base_rate = float(y[trva].mean())
    lr, lr_cols = _logistic(X[trva], y[trva], seed, C=lr_c)
    p_lr = lr.predict_proba(Xte[lr_cols])[:, 1]
    rows = {
        "model": score_metrics(p_model, yte),
        "logistic_regression": score_metrics(p_lr, yte),
        "base_rate": score_metrics(np.full(len(yte), base_rate), yte),
    }
    truth_p: np.ndarray | None = None
    if history.truth is not None:
        truth_map = history.truth.drop_duplicates("case_id").set_index("case_id")["p_improve"]
        truth_all = cases["case_id"].map(truth_map).to_numpy(dtype=float)
        if not np.isnan(truth_all[te]).any():
            truth_p = truth_all[te]
            rows["truth"] = score_metrics(truth_p, yte)
    metrics = pd.DataFrame([{"model": k, **v} for k, v in rows.items()])
    metrics["n"] = metrics["n"].astype(int)
    reliability = reliability_table(p_model, yte)

    # 5. intervals and their coverage on the test years
    eval_members, eval_cals = _bootstrap(
        X[trva], y[trva], params, eval_rounds, n_bootstrap, seed, kind
    )
    eval_held = _country_held_out_scores(
        X[trva], y[trva], cases["country"][trva].astype(str).to_numpy(), params, eval_rounds, kind
    )
    year_all = pd.to_datetime(cases["sent_date"]).dt.year.astype(str).to_numpy()
    eval_held_year = _country_held_out_scores(
        X[trva], y[trva], year_all[trva], params, eval_rounds, kind
    )
    n_known = known_country_outcomes(cases, history)
    eval_context = _context_sd(cases[trva], y[trva], eval_held, n_known[trva], eval_held_year)
    eval_draws = _draws(eval_members, eval_cals, Xte)
    held_sd = interval_sd(
        eval_draws,
        n=len(p_model),
        level=level,
        context_sd=_context_of(eval_context, n_known[te]),
    )
    lower, upper = interval_bounds(p_model, held_sd, level=level)
    coverage: dict[str, float] = {"nominal": level, "mean_width": float(np.mean(upper - lower))}
    if truth_p is not None:
        coverage["covered"] = float(np.mean((truth_p >= lower) & (truth_p <= upper)))
    held_out = pd.DataFrame(
        {
            "case_id": cases["case_id"][te].astype(str).to_numpy(),
            "year": pd.to_datetime(cases["sent_date"][te]).dt.year.to_numpy(),
            "improved": yte,
            "score": p_model,
            "lower": lower,
            "upper": upper,
            "sd": held_sd,
        }
    )
    if truth_p is not None:
        held_out["truth"] = truth_p
    tick("evaluated on held-out years")

    # 6. the shipped model: all labelled cases, same procedure
    n_all = len(y)
    final_rounds = _scaled_rounds(rounds, n_all, n_tr)
    (linear, booster), calibrator = _fit_calibrated(X, y, params, final_rounds, kind)
    held = _country_held_out_scores(
        X, y, cases["country"].astype(str).to_numpy(), params, final_rounds, kind
    )
    held_year = _country_held_out_scores(X, y, year_all, params, final_rounds, kind)
    context = _context_sd(cases, y, held, n_known, held_year)
    tick("final model fitted")
    members, member_cals = _bootstrap(X, y, params, final_rounds, n_bootstrap, seed + 1000, kind)

    out = Path(out_dir)
    years = pd.to_datetime(cases["sent_date"]).dt.year
    summary: dict[str, Any] = {
        "simulated": bool(history.simulated),
        "target": "improved: outcome is much_better or somewhat_better, one year after sent_date",
        "n_labelled": n_all,
        "base_rate_all": float(y.mean()),
        "split": {
            part: {
                "years": sorted({int(v) for v in years[mask]}),
                "n": int(mask.sum()),
                "positive_rate": float(y[mask].mean()),
            }
            for part, mask in (("train", tr), ("validation", va), ("test", te))
        },
        "config": {
            **{k: v for k, v in config.items() if not k.startswith("_")},
            "linear_start_C": config.get("_linear_C"),
            "rounds_selected": rounds,
            "rounds_final": final_rounds,
        },
        "calibration": {"kind": kind, "cv_brier": cal_scores},
        "logistic_regression_C": lr_c,
        "test": {
            row["model"]: {k: row[k] for k in metrics.columns if k != "model"}
            for row in metrics.to_dict("records")
        },
        "auc_gap_to_truth": (rows["truth"]["auc"] - rows["model"]["auc"])
        if "truth" in rows
        else float("nan"),
        "reliability": reliability.to_dict("records"),
        "coverage": {
            **coverage,
            "definition": _coverage_definition(level, n_bootstrap, eval_context),
            "context": eval_context,
        },
        "context_sd": context,
        "training_data_sha256": _data_hash(cases, X, y),
        "seed": seed,
        "n_bootstrap": n_bootstrap,
    }
    from triage.scoring._card import _verdict

    summary["verdict"] = _verdict(metrics)
    if comparison is not None:
        summary["comparison"] = comparison
    summary = _round(summary)
    model = TriageModel(
        booster=booster,
        linear=linear,
        members=[b for _, b in members],
        member_linears=[lin for lin, _ in members],
        year_sd=context["year"],
        country_sd=context["country"],
        country_k=context["country_k"],
        member_calibrators=member_cals,
        calibrator=calibrator,
        features=FEATURE_COLUMNS,
        level=level,
        metrics={
            "_features_meta": {
                "categorical": list(CATEGORICAL_FEATURES),
                "monotone": dict(MONOTONE),
                "params": {
                    k: v
                    for k, v in params.items()
                    if k != "monotone_constraints" and not k.startswith("_")
                },
                "linear_start_C": params.get("_linear_C"),
                "rounds": final_rounds,
            }
        },
    )
    queue = _queue_coverage(history, model, level)
    if queue is not None:
        queue_cov = {
            "n": float(len(queue)),
            "covered": float(
                np.mean((queue["truth"] >= queue["lower"]) & (queue["truth"] <= queue["upper"]))
            ),
            "mean_width": float(np.mean(queue["upper"] - queue["lower"])),
        }
        coverage.update({f"queue_{k}": v for k, v in queue_cov.items()})
        summary["coverage"]["queue"] = _round(queue_cov)
    if history.queue is not None and len(history.queue):
        queue_scores = (
            queue["score"]
            if queue is not None
            else pd.Series(model.predict_features(build_features(history.queue, history))["score"])
        )
        summary["ranking"] = _ranking(np.asarray(queue_scores, dtype=float))
    model.save(out)
    model.metrics = summary
    summary["model_sha256"] = model.sha256
    _write_json(out / "metrics.json", summary)
    from triage.scoring._card import reliability_svg, write_model_card

    (out / "reliability.svg").write_text(reliability_svg(reliability), encoding="utf-8")
    write_model_card(out, summary, metrics, seeds=_seeds_table(out))
    tick("artifacts written")
    return TrainResult(
        metrics=metrics,
        reliability=reliability,
        coverage=coverage,
        model=model,
        out_dir=out,
        summary=summary,
        held_out=held_out,
        queue=queue,
    )


def fit_model(history: History, *, seed: int = 0) -> TriageModel:
    """Fit the point model on every labelled case of ``history``: no test split, no intervals.

    The lean version of ``train`` for repeated refits (``triage evaluate`` refits once per
    year on the outcomes observed before it). The same steps on all labelled cases: the most
    recent years holding 20 % of them validate the configuration grid and the additive start
    (two time-ordered origins) and choose the calibrator; the chosen model is refitted on all
    of them with its rounds scaled, its calibrator fitted on time-ordered cross-fitted
    predictions. Nothing is written; the model has no bootstrap members and no context
    spread, so its ``lower`` and ``upper`` equal its score (up to rounding).

    Parameters
    ----------
    history : History
        The labelled cases are those with an outcome in ``history.outcomes``; features use only
        what ``history`` holds (pass a history cut at the decision date). The generator's truth
        is never read.
    seed : int, default 0
        Seed of every random step.

    Returns
    -------
    TriageModel
        ``version`` is ``"unsaved"``; ``metrics`` holds the fit's ``n_labelled``,
        ``last_sent_date``, ``config``, ``rounds`` and ``calibration``.

    Raises
    ------
    TriageError
        If there are too few labelled cases, or the training or validation years lack a class.
    """
    check_params(_CONSTRAINTS, seed=seed)
    cases, y = labelled_cases(history)
    if len(cases) < _MIN_TRAIN:
        raise TriageError(
            f"only {len(cases)} cases have a recorded outcome; fitting needs at least {_MIN_TRAIN}."
        )
    X = build_features(cases, history)
    tr, va, te = time_split(cases["sent_date"])
    fit_part, val_part = tr | va, te
    for name, mask in (("training", fit_part), ("validation", val_part)):
        if mask.sum() == 0 or len(np.unique(y[mask])) < 2:
            raise TriageError(
                f"the {name} years have no case of one class (improved / not improved); "
                "the time split needs both in every part."
            )
    for block in np.array_split(np.arange(len(y)), 5):
        if len(np.unique(np.delete(y, block))) < 2:
            raise TriageError(
                f"only {int(y.sum())} of the {len(y)} labelled cases improved, all in one period; "
                "the time-ordered calibration folds need both classes."
            )
    config, rounds = _select(X, y, cases["sent_date"], fit_part, val_part, int(seed))
    params = _params(config, int(seed))
    p_val = _raw_p(_fit(X[fit_part], y[fit_part], params, rounds), X[val_part])
    kind, _ = _choose_calibrator(p_val, y[val_part], int(seed))
    final_rounds = _scaled_rounds(rounds, len(y), int(fit_part.sum()))
    (linear, booster), calibrator = _fit_calibrated(X, y, params, final_rounds, kind)
    return TriageModel(
        booster=booster,
        linear=linear,
        members=[],
        calibrator=calibrator,
        features=FEATURE_COLUMNS,
        metrics={
            "n_labelled": len(y),
            "last_sent_date": str(pd.to_datetime(cases["sent_date"]).max().date()),
            "config": {k: v for k, v in config.items() if not k.startswith("_")},
            "linear_start_C": config.get("_linear_C"),
            "rounds": final_rounds,
            "calibration": kind,
        },
    )
